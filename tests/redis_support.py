"""Real Redis servers for tests: ``redis-server`` on a free loopback port (or a unix socket), durable,
in a temporary directory, started, killed and restarted by the test; and a real 3-master Cluster.

A test that needs Redis and finds no ``redis-server`` fails in CI (``CI=true``; ``.ci/run`` installs
it) and is skipped, with the reason shown, elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tests.support import free_port, unavailable

T = TypeVar("T")

STARTUP_TIMEOUT = 20.0
# Every acknowledged write on disk before the answer, and nothing evicted: the settings
# workerhost asks for (README "Storage").
DURABLE = {"appendonly": "yes", "appendfsync": "always", "maxmemory-policy": "noeviction", "save": ""}
CLUSTER_MASTERS = 3


def redis_binary(name: str = "redis-server") -> str:
    """The path of ``redis-server`` (or ``redis-cli``); fails the test in CI, skips it elsewhere, if missing."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        message = f"{name} is not installed (apt-get install redis-server; .ci/run does)"
        unavailable(message)
    return found


def unique_prefix() -> str:
    """A key prefix no other test uses: a store of its own on a shared server."""
    return f"test-{uuid.uuid4().hex[:16]}"


def ping(port: int | None = None, path: str | None = None, timeout: float = 1.0) -> bool:
    """True if a Redis server answers PING on the port (or unix socket)."""
    try:
        if path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(path)
        else:
            sock = socket.create_connection(("127.0.0.1", port or 0), timeout=timeout)
        with sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (and a unix socket), with its data in ``directory``.

    Args:
        directory: where its append-only file, log and socket go (kept across restarts).
        config: settings passed on the command line, over ``DURABLE``.
    """

    def __init__(self, directory: Path, config: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = {**DURABLE, **(config or {})}
        self.port = 0
        # A unix socket's path must stay under 108 bytes; pytest's nested temp dirs can be longer.
        self.socket_path = str(Path(tempfile.mkdtemp(prefix="wh-redis-")) / "redis.sock")
        self.process: subprocess.Popen[bytes] | None = None
        self.port_fixed = False  # once started, restarts come back on the same port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def unix_url(self) -> str:
        return f"unix://{self.socket_path}"

    def location(self, prefix: str | None = None) -> str:
        """A store location on this server, with a key prefix of its own (a fresh one by default)."""
        return f"{self.url}?prefix={prefix or unique_prefix()}"

    def command(self) -> list[str]:
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        args += ["--unixsocket", self.socket_path, "--unixsocketperm", "700", "--logfile", "redis.log"]
        for name, value in self.config.items():
            args += [f"--{name}", value]
        return args

    def start(self) -> RedisServer:
        """Start it (on a new free port the first time, the same port after); returns once it answers."""
        for attempt in range(5):
            if not self.port or attempt:
                self.port = self._free_port()
            self.process = subprocess.Popen(
                self.command(), cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._wait():
                return self
            self.process.kill()
            self.process.wait()
            if self.port_fixed:
                break
        raise RuntimeError(f"redis-server did not start on port {self.port}:\n{self.log()[-2000:]}")

    def _free_port(self) -> int:
        return free_port()

    def _wait(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if ping(self.port):
                self.port_fixed = True
                return True
            time.sleep(0.02)
        return False

    def restart(self) -> None:
        """Start it again on the same port and directory (it reloads its append-only file)."""
        assert self.port_fixed, "start() first"
        self.process = subprocess.Popen(
            self.command(), cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not self._wait():
            raise RuntimeError(f"redis-server did not restart on port {self.port}:\n{self.log()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: nothing is flushed or saved on the way down."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """Stop it for good (SIGTERM) and remove its socket's folder; its data folder stays with the test's."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(Path(self.socket_path).parent, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def cli(self, *args: str) -> str:
        """``redis-cli`` against this server; returns its output."""
        command = [redis_binary("redis-cli"), "-p", str(self.port), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


class RedisCluster:
    """A real Redis Cluster of ``CLUSTER_MASTERS`` masters on loopback, each with its data in its own folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.nodes: list[RedisServer] = []

    @property
    def url(self) -> str:
        """Any node's address is enough: the client finds the others."""
        return self.nodes[0].url

    def location(self, prefix: str | None = None) -> str:
        return f"{self.url}?prefix={prefix or unique_prefix()}"

    def start(self) -> RedisCluster:
        for number in range(CLUSTER_MASTERS):
            node = _ClusterNode(self.directory / f"node{number}")
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        create = [redis_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0"]
        done = subprocess.run([*create, "--cluster-yes"], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{done.stdout}\n{done.stderr}")
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not all("cluster_state:ok" in node.cli("cluster", "info") for node in self.nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not reach cluster_state:ok")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class _ClusterNode(RedisServer):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, {"cluster-enabled": "yes", "cluster-config-file": "nodes.conf"})

    def _free_port(self) -> int:
        # The cluster bus listens on the port plus 10000: both must be free.
        for _ in range(100):
            port = free_port()
            if port + 10000 < 65536 and _port_free(port + 10000):
                return port
        raise RuntimeError("no free port pair for a cluster node")


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh event loop in a thread of its own (safe inside a running loop)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=main, name="redis-test-helper")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


async def _wipe(location: str) -> None:
    from bindings.storage.redis import RedisStore

    store = RedisStore(location)
    try:
        await store.destroy()
    finally:
        await store.close()


def wipe(location: str) -> None:
    """Delete every key of the store at ``location`` (its prefix only)."""
    with contextlib.suppress(Exception):
        run_async(_wipe(location))
