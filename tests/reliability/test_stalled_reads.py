"""A client that starts reading a 25 MiB value and stops does not make the write-ahead log grow.

The value is streamed from one snapshot; while that read transaction is open, SQLite cannot reset its log,
and every commit makes the ``-wal`` file longer (180 MB over 12,000 small writes was seen). The client
here reads the headers and a little of the body, then nothing, its connection left open. Commits go on
meanwhile (plain ``sqlite3`` commits without fsync, as another process would make them, so thousands
take a fraction of a second): the log must become fully checkpointable again, and then stay small.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.support import DevServer, eventually, write_files

from .support import MIB, NAMESPACES

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: w
            script: w.py
            routes: ["/w/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
    """,
    "w.py": """
        from starlette.responses import StreamingResponse


        async def fetch(request, env, ctx):
            return StreamingResponse(await env.KV.get(request.query_params["key"], type="stream"))
    """,
}


def _commits_elsewhere(path: Path, count: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        for n in range(count):
            connection.execute(
                "INSERT INTO entries (key, size, value) VALUES (?, 1, x'00') ON CONFLICT (key) DO UPDATE SET size = 1",
                (f"other{n % 50}".encode(),),
            )
    finally:
        connection.close()


def _log_fully_checkpointed(path: Path) -> bool:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(frames == copied)
    finally:
        connection.close()


def _stall(port: int, target: str) -> socket.socket:
    """Start a GET of ``target``, read its headers and some of its body, then read no more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)  # so the host's sends block soon
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received or len(received) < 256 * 1024:
        received += sock.recv(65536)
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return sock


@pytest.mark.parametrize("read", ["REST value read", "handler stream"])
def test_a_client_that_stops_reading_a_25_mib_value_does_not_make_the_log_grow(tmp_path: Path, read: str) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    server = DevServer(project / "kv.yaml", tmp_path / "data").start()
    stalled: socket.socket | None = None
    try:
        namespace_id = server.status()["workers"][0]["bindings"][0]["namespace_id"]
        path = tmp_path / "data" / "kv" / f"{namespace_id}.sqlite3"
        value = os.urandom(25 * MIB)
        assert server.client.put(f"{NAMESPACES}/{namespace_id}/values/big", content=value).status_code == 200
        target = f"{NAMESPACES}/{namespace_id}/values/big" if read == "REST value read" else "/w/get?key=big"
        stalled = _stall(server.port, target)

        def reset_possible() -> bool:
            _commits_elsewhere(path, 20)
            return _log_fully_checkpointed(path)

        eventually(reset_possible, what="the stalled read to let go of its snapshot")
        before = Path(f"{path}-wal").stat().st_size
        _commits_elsewhere(path, 3000)  # with the log pinned, about 25 MB more
        after = Path(f"{path}-wal").stat().st_size
        assert after <= max(before, 4 * MIB), (before, after)
        assert server.client.get(f"{NAMESPACES}/{namespace_id}/values/big").content == value  # others read on
    finally:
        if stalled is not None:
            stalled.close()
        server.stop()
