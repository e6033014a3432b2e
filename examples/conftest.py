"""Fixtures for the examples' tests.

The examples' tests use workerhost's pytest plugin (its fixtures need nothing here but the anyio
backend for async tests); ``examples`` is the real ``workerhost dev`` serving the root kv.yaml, for
``test_served.py``. The storage switch (``tests/redis_fixtures.py``) applies here too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.redis_fixtures import _storage_for_the_module, _storage_for_the_session, _storage_for_the_test, redis_server

__all__ = [
    "_storage_for_the_module",
    "_storage_for_the_session",
    "_storage_for_the_test",
    "redis_server",
]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the workerhost_async fixture runs on asyncio


@pytest.fixture(scope="session")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An HTTP client for ``workerhost dev`` serving every example from the repo's kv.yaml."""
    data = tmp_path_factory.mktemp("examples")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "runtime",
        "dev",
        "--port",
        str(port),
        "--persist-to",
        str(data / "kv"),
        "--no-reload",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(data / "server.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        deadline = time.monotonic() + 30
        while not _answers(client):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"workerhost dev did not start:\n{(data / 'server.log').read_text()}")
            time.sleep(0.02)
        yield client
    finally:
        client.close()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


def _answers(client: httpx.Client) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return client.get("/__workerhost/status").status_code == 200
    return False
