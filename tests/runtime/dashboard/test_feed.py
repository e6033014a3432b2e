"""The live feed over HTTP from a real ``workerhost dev``: writes by handlers, REST and the CLI (another
process) arrive as server-sent events, and an open stream does not hold up the host's shutdown."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ROOT, DevServer, dev_server, eventually, write_files

ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACES = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: app
            script: worker.py
            routes: ["/app/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
    """,
    "worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            await env.KV.put("from-handler", "1")
            return Response("ok")
    """,
}


class Feed:
    """An open ``/__workerhost/api/changes`` stream, read on a thread into a queue of events."""

    def __init__(self, server: DevServer) -> None:
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.connected = threading.Event()
        self._client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the feed did not connect"

    def _read(self) -> None:
        try:
            with self._client.stream("GET", "/__workerhost/api/changes") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                name = None
                for line in response.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: ") and name == "change":
                        self.events.put(json.loads(line[6:]))
        except httpx.HTTPError:
            pass
        finally:
            self._client.close()
            self.events.put(None)  # the stream ended

    def take(self, count: int) -> list[dict[str, Any]]:
        taken = []
        for _ in range(count):
            event = self.events.get(timeout=20)
            assert event is not None, f"the stream ended after {taken}"
            taken.append(event)
        return taken

    def close(self) -> None:
        self._client.close()

    def ended(self) -> bool:
        self._thread.join(20)
        return not self._thread.is_alive()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "project", FILES)


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[DevServer]:
    with dev_server(project / "kv.yaml", tmp_path / "data") as running:
        yield running


def _cli(project: Path, data: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "runtime", "kv", *args, "--config", str(project / "kv.yaml")]
    return subprocess.run([*command, "--persist-to", str(data)], env=env, cwd=project, capture_output=True, timeout=60)


def test_writes_from_handlers_rest_and_the_cli_arrive_as_they_happen(
    server: DevServer, project: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    feed = Feed(server)
    request.addfinalizer(feed.close)
    namespace = next(n["id"] for n in server.client.get(NAMESPACES).json()["result"] if n["title"] == "data")
    assert server.client.get("/app/go").text == "ok"
    assert server.client.put(f"{NAMESPACES}/{namespace}/values/from%20rest", content=b"2").status_code == 200
    assert _cli(project, tmp_path / "data", "key", "put", "<b>from cli</b>", "3", "--binding", "KV").returncode == 0
    pairs = [{"key": f"bulk{i}", "value": "v"} for i in range(30)]
    assert server.client.put(f"{NAMESPACES}/{namespace}/bulk", json=pairs).status_code == 200
    assert _cli(project, tmp_path / "data", "namespace", "create", "made by cli").returncode == 0
    events = feed.take(5)
    summary = [(e["op"], e["keys"][:2], e["count"], e["source"]) for e in events]
    assert summary[:2] == [("put", ["from-handler"], 1, "worker app"), ("put", ["from rest"], 1, "REST API")]
    assert ("put", ["<b>from cli</b>"], 1, "CLI") in summary[2:]
    assert ("put", ["bulk0", "bulk1"], 30, "REST API") in summary[2:]
    created = next(e for e in events if e["op"] == "namespace_create")
    assert (created["title"], created["source"]) == ("made by cli", "CLI")
    assert all(e["namespace"] == namespace for e in events if e["op"] == "put")


def test_an_open_feed_ends_when_the_host_stops(server: DevServer) -> None:
    feed = Feed(server)
    assert server.stop() == 0
    assert feed.ended()
    assert "graceful shutdown exceeded" not in server.stderr()


def test_with_several_processes_each_feed_sees_the_others_writes(
    project: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with dev_server(project / "kv.yaml", tmp_path / "data", args=("--workers", "2")) as server:
        feed = Feed(server)
        request.addfinalizer(feed.close)
        namespace = next(n["id"] for n in server.client.get(NAMESPACES).json()["result"] if n["title"] == "data")
        for number in range(12):
            # A new connection each time, so the kernel spreads them over both processes.
            response = httpx.put(f"{server.url}{NAMESPACES}/{namespace}/values/k{number:02d}", content=b"v")
            assert response.status_code == 200
        keys = sorted(event["keys"][0] for event in feed.take(12))
        assert keys == [f"k{number:02d}" for number in range(12)]
        eventually(lambda: feed.events.empty(), what="no event twice")
