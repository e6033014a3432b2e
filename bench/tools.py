"""The outside tools a run needs, installed on demand: wrk (apt), Miniflare and wrangler (npm), a network namespace.

Node packages go into the cache directory (``~/.cache/workerhost-bench/node``), never into the
repository. Versions are pinned: wrangler 4.86.0 is the one the REST API tests drive, it runs on
Node 20 (later 4.x releases need Node 22), and Miniflare 4.20260426.0 is the one it bundles.

``wrangler dev`` fetches request metadata from the internet when it starts and on every reload, and
``wrangler kv`` tries to reach Cloudflare; both run inside a fresh network namespace with only the
loopback interface up, so a missing network cannot slow them down or be blamed on them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MINIFLARE_VERSION",
    "WRANGLER_VERSION",
    "NodeTools",
    "ToolMissingError",
    "ensure_node_tools",
    "ensure_redis",
    "ensure_wrk",
    "netns_prefix",
]

WRANGLER_VERSION = "4.86.0"
MINIFLARE_VERSION = "4.20260426.0"
_NODE_MAJOR_MIN = 20


class ToolMissingError(Exception):
    """A tool a row needs is missing and could not (or may not) be installed."""


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def ensure_wrk(install: bool) -> str:
    """The path of wrk, installing it with apt-get if allowed."""
    found = shutil.which("wrk")
    if found:
        return found
    if not install:
        raise ToolMissingError("wrk is not installed (apt-get install wrk)")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = _run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], env=env)
    if done.returncode != 0:  # the package lists may be missing or stale
        _run([*sudo, "apt-get", "update", "-q"], env=env)
        done = _run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], env=env)
    found = shutil.which("wrk")
    if not found:
        raise ToolMissingError(f"could not install wrk with apt-get:\n{done.stderr.strip()}")
    return found


def ensure_redis(install: bool) -> str:
    """The path of redis-server (with redis-cli beside it), installing it with apt-get if allowed."""
    found = shutil.which("redis-server")
    if found:
        return found
    if not install:
        raise ToolMissingError("redis-server is not installed (apt-get install redis-server)")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = _run([*sudo, "apt-get", "install", "-y", "-q", "redis-server"], env=env)
    if done.returncode != 0:
        _run([*sudo, "apt-get", "update", "-q"], env=env)
        done = _run([*sudo, "apt-get", "install", "-y", "-q", "redis-server"], env=env)
    found = shutil.which("redis-server")
    if not found:
        raise ToolMissingError(f"could not install redis-server with apt-get:\n{done.stderr.strip()}")
    return found


@dataclass(frozen=True)
class NodeTools:
    """Where the pinned Node packages are."""

    prefix: Path

    @property
    def wrangler(self) -> list[str]:
        return ["node", str(self.prefix / "node_modules" / "wrangler" / "bin" / "wrangler.js")]

    @property
    def projects(self) -> Path:
        """This run's Node projects: under ``prefix``, so their ``import "miniflare"`` resolves."""
        return self.prefix / "projects" / str(os.getpid())


def _installed_version(prefix: Path, package: str) -> str | None:
    try:
        return str(json.loads((prefix / "node_modules" / package / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def _check_node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise ToolMissingError("Node.js and npm are needed for the Miniflare and wrangler peers")
    version = _run(["node", "--version"]).stdout.strip().lstrip("v")
    if int(version.split(".")[0] or 0) < _NODE_MAJOR_MIN:
        raise ToolMissingError(f"Node.js {_NODE_MAJOR_MIN} or later is needed, found {version}")


def ensure_node_tools(cache: Path, install: bool) -> NodeTools:
    """Pinned Miniflare and wrangler under ``cache/node``, installed with npm if missing and allowed."""
    prefix = cache / "node"
    wanted = {"wrangler": WRANGLER_VERSION, "miniflare": MINIFLARE_VERSION}
    if all(_installed_version(prefix, name) == version for name, version in wanted.items()):
        return NodeTools(prefix)
    if not install:
        raise ToolMissingError(f"Miniflare {MINIFLARE_VERSION} and wrangler {WRANGLER_VERSION} are not in {prefix}")
    _check_node()
    prefix.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version}" for name, version in wanted.items()]
    done = _run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error", *specs])
    if done.returncode != 0:
        raise ToolMissingError(f"npm install {' '.join(specs)} failed:\n{done.stderr.strip()[-2000:]}")
    return NodeTools(prefix)


_LOOPBACK_UP = '(ip link set lo up || ifconfig lo up) >/dev/null 2>&1 && exec "$@"'


def netns_prefix() -> list[str] | None:
    """An argv prefix that runs a command in a new network namespace with loopback up; None if impossible."""
    if shutil.which("unshare") is None:
        return None
    for flags in (["-n"], ["-r", "-n"]):  # as root; else as root in a new user namespace
        prefix = ["unshare", *flags, "--", "sh", "-c", _LOOPBACK_UP, "sh"]
        if _loopback_works(prefix):
            return prefix
    return None


def _loopback_works(prefix: list[str]) -> bool:
    check = (
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "c = socket.create_connection(s.getsockname(), timeout=2); c.close(); s.close()\n"
    )
    try:
        return _run([*prefix, sys.executable, "-c", check], timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
