"""Test helpers: a real ``workerhost dev`` subprocess, an in-process app client, and polling helpers.

No test sleeps a fixed time: readiness, reloads and wait_until work are all awaited by polling
with a generous deadline, and the failure message carries the server's stderr.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 30.0
EVENTUALLY_TIMEOUT = 20.0
T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose system package is missing, or fail it in CI (``CI`` set, as ``.ci/run`` does)."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_files(base: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``base`` (text is dedented); returns ``base``."""
    for name, text in files.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return base


def eventually(check: Callable[[], T], timeout: float = EVENTUALLY_TIMEOUT, what: str = "condition") -> T:
    """Call ``check`` until it returns a truthy value without raising AssertionError; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
            error: Exception | None = None
        except (AssertionError, httpx.TransportError) as exc:
            error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {error!r}")
        time.sleep(0.02)


class DevServer:
    """``python -m runtime dev`` in a subprocess on a free loopback port."""

    def __init__(
        self,
        config: Path,
        persist_to: Path,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        preexec_fn: Callable[[], None] | None = None,
    ):
        self.config = config
        self.persist_to = persist_to
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
        logs = persist_to.parent / f"server-{self.port}"
        self.stdout_path, self.stderr_path = logs.with_suffix(".out"), logs.with_suffix(".err")
        self.preexec_fn = preexec_fn  # runs in the child before it starts, e.g. to lower a resource limit
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=10)
        # With API tokens set the status route takes one, as the REST API does.
        token = self.env.get("WORKERHOST_API_TOKENS", "").split(",")[0].strip()
        self.auth = {"Authorization": f"Bearer {token}"} if token else {}

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "runtime",
            "dev",
            "--config",
            str(self.config),
            "--port",
            str(self.port),
            "--persist-to",
            str(self.persist_to),
            *self.args,
        ]

    def launch(self) -> DevServer:
        """Start the process and return at once, without waiting for it to serve."""
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=err, env=self.env, cwd=self.config.parent, preexec_fn=self.preexec_fn
            )
        return self

    def start(self) -> DevServer:
        self.launch()
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"workerhost dev exited with {self.process.returncode}:\n{self.stderr()}")
            with contextlib.suppress(httpx.TransportError):
                if self.client.get("/__workerhost/status", headers=self.auth).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"workerhost dev did not answer within {STARTUP_TIMEOUT}s:\n{self.stderr()}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGINT) -> int | None:
        """Stop the server as Ctrl-C does; returns its exit status."""
        self.client.close()
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace") if self.stderr_path.exists() else ""

    def status(self) -> dict[str, Any]:
        return self.client.get("/__workerhost/status", headers=self.auth).json()  # type: ignore[no-any-return]


@contextlib.contextmanager
def dev_server(config: Path, persist_to: Path, **kwargs: Any) -> Iterator[DevServer]:
    server = DevServer(config, persist_to, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def app_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an in-process app, with its lifespan running (start-up and shutdown)."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


PROJECTS = Path(__file__).resolve().parent / "projects"


class ProjectServer(DevServer):
    """``workerhost dev`` run in a project's folder as a user runs it: no flags, a free port and a data
    directory given through the environment (``WORKERHOST_PORT``, ``WORKERHOST_PERSIST_TO``)."""

    def __init__(self, folder: Path, persist_to: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(folder / "wrangler.jsonc", persist_to)  # the config's folder is where it runs
        clean = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_")}
        self.env = {
            **clean,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",  # Django imports its urls lazily: no __pycache__ in the repo
            "WORKERHOST_PORT": str(self.port),
            "WORKERHOST_PERSIST_TO": str(persist_to),
            **(env or {}),
        }

    def command(self) -> list[str]:
        return [sys.executable, "-m", "runtime", "dev"]


@contextlib.contextmanager
def project_server(shape: str, persist_to: Path, env: dict[str, str] | None = None) -> Iterator[ProjectServer]:
    """``workerhost dev`` in ``tests/projects/<shape>``, stopped afterwards."""
    persist_to.mkdir(parents=True, exist_ok=True)
    server = ProjectServer(PROJECTS / shape, persist_to, env).start()
    try:
        yield server
    finally:
        server.stop()
