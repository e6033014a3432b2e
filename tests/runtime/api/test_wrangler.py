"""The real wrangler CLI against the live server (``--remote``, ``CLOUDFLARE_API_BASE_URL``).

wrangler is installed with npm into a cache outside the repository (``.ci/run`` pre-installs it
the same way). Without npm the test is skipped locally and fails in CI, so CI always runs it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import unavailable

from .conftest import ACCOUNT_ID, TIME_NOW, TOKENS, WRITE_TOKEN, LiveApi, result_of

# The newest wrangler 4 that still runs on Node 20 (later ones need Node 22); CLIENTS.md was captured with it.
WRANGLER_VERSION = os.environ.get("WORKERHOST_WRANGLER_VERSION", "4.86.0")
WRANGLER_DIR = Path(os.environ.get("WORKERHOST_WRANGLER_DIR", Path.home() / ".cache/workerhost-test/wrangler"))
SPECIAL_KEY = "dir/sub?q=1#frag 100% é"


def _installed_version() -> str | None:
    package = WRANGLER_DIR / "node_modules" / "wrangler" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else None


@pytest.fixture(scope="session")
def wrangler_js() -> Path:
    """wrangler's entry script, installed on first use (and reused after)."""
    if _installed_version() != WRANGLER_VERSION:
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            unavailable("npm and node are needed to test the REST API with wrangler (.ci/run installs them)")
        command = [npm, "install", "--prefix", str(WRANGLER_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run([*command, f"wrangler@{WRANGLER_VERSION}"], capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or _installed_version() != WRANGLER_VERSION:
            pytest.fail(f"`npm install wrangler@{WRANGLER_VERSION}` into {WRANGLER_DIR} failed:\n{done.stderr}")
    return WRANGLER_DIR / "node_modules" / "wrangler" / "bin" / "wrangler.js"


class Wrangler:
    """Runs wrangler commands against one test's server, in a scratch directory."""

    def __init__(self, script: Path, api: LiveApi, home: Path) -> None:
        self.script = script
        self.api = api
        self.home = home
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "CLOUDFLARE_API_BASE_URL": api.root,
            "CLOUDFLARE_API_TOKEN": WRITE_TOKEN,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
            "WRANGLER_SEND_METRICS": "false",
            "WRANGLER_SEND_ERROR_REPORTS": "false",
            "NO_COLOR": "1",
            "CI": "true",
        }

    def run(self, *args: str, account: bool = True) -> bytes:
        env = self.env if account else {k: v for k, v in self.env.items() if k != "CLOUDFLARE_ACCOUNT_ID"}
        command = [shutil.which("node") or "node", str(self.script), *args]
        done = subprocess.run(command, capture_output=True, cwd=self.home, env=env, timeout=120)
        assert done.returncode == 0, (
            f"wrangler {' '.join(args)} failed:\n{done.stdout.decode()}\n{done.stderr.decode()}"
        )
        return done.stdout

    def file(self, name: str, content: object) -> str:
        path = self.home / name
        path.write_text(json.dumps(content))
        return str(path)


@pytest.fixture
def wrangler(wrangler_js: Path, api: LiveApi, tmp_path: Path) -> Wrangler:
    api.use(TOKENS)  # wrangler always sends its token; check that it is accepted
    home = tmp_path / "wrangler-home"
    home.mkdir()
    return Wrangler(wrangler_js, api, home)


def test_wrangler_creates_and_lists_namespaces(wrangler: Wrangler, api: LiveApi) -> None:
    wrangler.run("kv", "namespace", "create", "from-wrangler")
    created = api.run(api.store.find_namespace("from-wrangler"))
    assert created is not None
    # Without CLOUDFLARE_ACCOUNT_ID, wrangler finds the account through /accounts and /memberships.
    listed = json.loads(wrangler.run("kv", "namespace", "list", account=False))
    assert [(ns["id"], ns["title"]) for ns in listed] == [(created.id, "from-wrangler")]


def test_wrangler_puts_gets_lists_and_deletes_keys(wrangler: Wrangler, api: LiveApi, ns: str) -> None:
    remote = ("--namespace-id", ns, "--remote")
    wrangler.run("kv", "key", "put", "plain", "hello", *remote)
    wrangler.run("kv", "key", "put", "rich", "value", "--metadata", '{"m":1}', "--ttl", "3600", *remote)
    wrangler.run("kv", "key", "put", SPECIAL_KEY, "special", *remote)
    assert wrangler.run("kv", "key", "get", "plain", "--text", *remote).strip() == b"hello"
    assert wrangler.run("kv", "key", "get", SPECIAL_KEY, "--text", *remote).strip() == b"special"
    listed = {key["name"]: key for key in json.loads(wrangler.run("kv", "key", "list", *remote))}
    assert set(listed) == {"plain", "rich", SPECIAL_KEY}
    assert listed["rich"]["metadata"] == {"m": 1} and listed["rich"]["expiration"] == TIME_NOW + 3600
    wrangler.run("kv", "key", "delete", SPECIAL_KEY, *remote)
    assert [key["name"] for key in result_of(api.http.get(f"{api.base}/{ns}/keys", headers=_auth()))] == [
        "plain",
        "rich",
    ]


def test_wrangler_bulk_puts_gets_and_deletes(wrangler: Wrangler, api: LiveApi, ns: str) -> None:
    remote = ("--namespace-id", ns, "--remote")
    binary = bytes(range(256))
    pairs = [
        {"key": "text", "value": "one"},
        {"key": SPECIAL_KEY, "value": "two", "metadata": {"n": 2}, "expiration_ttl": 600},
        {"key": "bin", "value": base64.b64encode(binary).decode(), "base64": True},
    ]
    wrangler.run("kv", "bulk", "put", wrangler.file("put.json", pairs), *remote)
    assert wrangler.run("kv", "key", "get", "bin", *remote) == binary
    output = wrangler.run("kv", "bulk", "get", wrangler.file("get.json", ["text", SPECIAL_KEY]), *remote)
    got, _ = json.JSONDecoder().raw_decode(output.decode())  # the JSON, then "Success!"
    assert got == {"text": "one", SPECIAL_KEY: "two"}
    wrangler.run("kv", "bulk", "delete", wrangler.file("delete.json", ["text", {"name": "bin"}]), "--force", *remote)
    remaining = result_of(api.http.get(f"{api.base}/{ns}/keys", headers=_auth()))
    assert remaining == [{"name": SPECIAL_KEY, "expiration": TIME_NOW + 600, "metadata": {"n": 2}}]


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE_TOKEN}"}
