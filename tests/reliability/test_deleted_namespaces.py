"""A namespace deleted under a running host, and created again, never swallows a write.

The host keeps its files open. The namespace is deleted by another process (``workerhost kv namespace
delete``) or through the host's own REST API, and created again with the same id (``workerhost kv
namespace create --id``, or kv.yaml at the next reload). Every write answered 200 must then be readable
by the host, by the CLI, and after a restart; a write to the deleted namespace gets Cloudflare's
namespace-not-found (REST 404 with code 10013; the binding's ``KVError`` 404), never a 200.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, DevServer, eventually, write_files

from .support import NAMESPACES

NAMESPACE_ID = "5b0f4b2a9d0e4c7fa1c2d3e4f5a6b7c8"
PROJECT = {
    "kv.yaml": f"""
        kv_namespaces:
          - title: data
            id: {NAMESPACE_ID}
        workers:
          - name: w
            script: w.py
            routes: ["/w/*"]
            kv_namespaces: [{{binding: KV, namespace: data}}]
    """,
    "w.py": """
        from runtime import Response
        from bindings import KVError


        async def fetch(request, env, ctx):
            key = request.query_params["key"]
            try:
                if request.method == "PUT":
                    await env.KV.put(key, await request.body())
                    return Response("stored")
                value = await env.KV.get(key)
            except KVError as exc:
                return Response(str(exc), status=exc.status)
            return Response("missing", status=404) if value is None else Response(value)
    """,
}
VALUES = f"{NAMESPACES}/{NAMESPACE_ID}/values"


def cli(persist: Path, *args: str) -> str:
    command = [sys.executable, "-m", "runtime", "kv", *args, "--persist-to", str(persist)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def fresh(server: DevServer) -> httpx.Client:
    """A client that opens a connection per request, so a host of several processes answers from each."""
    return httpx.Client(base_url=server.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def deleted_files(pid: int) -> list[str]:
    """The descriptors of ``pid`` and its children open on a deleted file of the store."""
    pids = [pid] + [int(child) for child in _children(pid)]
    found = []
    for process in pids:
        for fd in os.listdir(f"/proc/{process}/fd"):
            try:
                target = os.readlink(f"/proc/{process}/fd/{fd}")
            except OSError:
                continue
            if ".sqlite3" in target and target.endswith("(deleted)"):
                found.append(target)
    return found


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to see the host's descriptors")
@pytest.mark.parametrize("processes", [pytest.param((), id="one process"), pytest.param(("--workers", "2"), id="2")])
def test_a_namespace_deleted_and_created_again_by_the_cli_takes_every_write_into_the_new_one(
    tmp_path: Path, processes: tuple[str, ...]
) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    persist = tmp_path / "data"
    server = DevServer(project / "kv.yaml", persist, args=processes).start()
    try:
        with fresh(server) as http:
            for n in range(10):
                assert http.put("/w/put", params={"key": f"old{n}"}, content=b"deleted with it").status_code == 200
                assert http.get("/w/get", params={"key": f"old{n}"}).text == "deleted with it"
        cli(persist, "namespace", "delete", NAMESPACE_ID, "-y")
        with fresh(server) as http:
            for n in range(10):
                refused = http.put("/w/put", params={"key": f"lost{n}"}, content=b"v")
                assert (refused.status_code, refused.text) == (404, "KV PUT failed: 404 namespace not found")
                refused = http.put(f"{VALUES}/lost{n}", content=b"v")
                assert refused.status_code == 404 and refused.json()["errors"][0]["code"] == 10013
        cli(persist, "namespace", "create", "data", "--id", NAMESPACE_ID)
        with fresh(server) as http:
            for n in range(20):
                assert http.put("/w/put", params={"key": f"h{n}"}, content=f"handler {n}".encode()).status_code == 200
                assert http.put(f"{VALUES}/r{n}", content=f"rest {n}".encode()).status_code == 200
            for n in range(20):
                assert http.get("/w/get", params={"key": f"h{n}"}).text == f"handler {n}"
                assert http.get(f"{VALUES}/r{n}").text == f"rest {n}"
            for key in ("old0", "lost0"):
                assert http.get("/w/get", params={"key": key}).status_code == 404
        listed = json.loads(cli(persist, "key", "list", "--namespace-id", NAMESPACE_ID))
        written = [f"h{n}" for n in range(20)] + [f"r{n}" for n in range(20)]
        assert sorted(key["name"] for key in listed) == sorted(written)
        assert cli(persist, "key", "get", "h7", "--namespace-id", NAMESPACE_ID) == "handler 7"
        if not processes:  # every process of the host has used the namespace since: none kept the old file
            assert server.process is not None and deleted_files(server.process.pid) == []
    finally:
        server.stop()
    server = DevServer(project / "kv.yaml", persist).start()  # and after a restart
    try:
        assert [server.client.get("/w/get", params={"key": f"h{n}"}).text for n in range(20)] == [
            f"handler {n}" for n in range(20)
        ]
    finally:
        server.stop()


class Putter(threading.Thread):
    """Handler puts of its own keys, one at a time, each recorded with when it was sent and its answer."""

    def __init__(self, server: DevServer, name: str, stop: threading.Event) -> None:
        super().__init__(name=name)
        self.server = server
        self.stop = stop
        self.answers: list[tuple[str, float, int, str]] = []  # key, sent at, status, text

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as http:
            n = 0
            while not self.stop.is_set():
                key = f"{self.name}-{n:05}"
                sent = time.monotonic()
                response = http.put("/w/put", params={"key": key}, content=key.encode())
                self.answers.append((key, sent, response.status_code, response.text))
                n += 1


def test_a_rest_delete_under_concurrent_puts_and_a_reload_that_creates_it_again_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    server = DevServer(project / "kv.yaml", tmp_path / "data").start()
    stop = threading.Event()
    putters = [Putter(server, f"p{n}", stop) for n in range(4)]
    try:
        for putter in putters:
            putter.start()
        eventually(lambda: all(len(putter.answers) > 20 for putter in putters), what="puts before the delete")
        assert server.client.delete(f"{NAMESPACES}/{NAMESPACE_ID}").status_code == 200
        deleted = time.monotonic()
        eventually(lambda: all(p.answers[-1][1] > deleted for p in putters), what="puts after the delete")
        (project / "kv.yaml").write_text((project / "kv.yaml").read_text() + "\n")  # the reload creates it again
        eventually(lambda: server.client.get(f"{NAMESPACES}/{NAMESPACE_ID}").status_code == 200, what="a reload")
        created = time.monotonic()
        eventually(lambda: all(len([a for a in p.answers if a[1] > created]) > 20 for p in putters), what="puts")
    finally:
        stop.set()
        for putter in putters:
            putter.join()
    try:
        answers = [answer for putter in putters for answer in putter.answers]
        assert {status for _, _, status, _ in answers} <= {200, 404}, answers
        refused = [answer for answer in answers if answer[2] == 404]
        assert refused and all(text == "KV PUT failed: 404 namespace not found" for _, _, _, text in refused)
        # Every put acknowledged after the delete answered landed in the namespace created again.
        acknowledged = [key for key, sent, status, _ in answers if status == 200 and sent > deleted]
        with fresh(server) as http:
            missing = [key for key in acknowledged if http.get("/w/get", params={"key": key}).text != key]
        assert acknowledged and not missing, f"{len(missing)} of {len(acknowledged)} lost, e.g. {missing[:5]}"
    finally:
        server.stop()
