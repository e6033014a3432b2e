"""One write per response (runtime.server.coalesce): counted on a real ``workerhost dev``, and its edges
on the host's protocol in-process over real loopback sockets: a head is never held back from a client
waiting for it (a slow stream, a HEAD request, a closing connection, ``100 Continue``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from runtime.server.limits import ConnectionLimits
from tests.runtime.server import inprocess
from tests.support import dev_server, write_files

WAIT = 15.0  # seconds a read may take before the test fails
REQUESTS = 60


def _write_calls(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    raise AssertionError("no syscw in /proc/PID/io")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts write calls in /proc/PID/io")
def test_a_response_is_one_write(tmp_path: Path) -> None:
    project = write_files(
        tmp_path / "project",
        {
            "kv.yaml": 'workers:\n  - name: hello\n    script: worker.py\n    routes: ["/*"]\n',
            "worker.py": "from workers import Response\n\nasync def fetch(request, env, ctx):\n"
            "    return Response('hello')\n",
        },
    )
    with dev_server(project / "kv.yaml", tmp_path / "data", args=("--no-reload",)) as server, socket.create_connection(
        ("127.0.0.1", server.port), timeout=WAIT
    ) as client:
        assert server.process is not None
        request = b"GET /hello HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
        answer = b""

        def ask() -> None:
            nonlocal answer
            client.sendall(request)
            answer = b""
            while not answer.endswith(b"\r\n\r\nhello"):
                chunk = client.recv(65536)
                assert chunk, "the server closed the connection"
                answer += chunk

        ask()
        before = _write_calls(server.process.pid)
        for _ in range(REQUESTS):
            ask()
        writes = _write_calls(server.process.pid) - before
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    # Two writes a response (head, then body) before; the few extra are the request log's flushes.
    assert writes < REQUESTS * 1.5, f"{writes} write calls for {REQUESTS} responses"


# --- the edges, in-process ---------------------------------------------------------------------------

RELEASE: asyncio.Event | None = None  # set by a test: the /slow body is sent once it is


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/slow`` sends its head, then its body once ``RELEASE`` is set; ``/read`` reads the body first."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/read":
        await receive()
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if scope["path"] == "/slow":
        assert RELEASE is not None
        await RELEASE.wait()
    await send({"type": "http.response.body", "body": b"ok"})


def serving() -> contextlib.AbstractAsyncContextManager[int]:
    return inprocess.serving(app, ConnectionLimits(header_timeout=5, idle_timeout=5), stopping=_release)


def _release() -> None:
    if RELEASE is not None:
        RELEASE.set()


async def _exchange(port: int, request: bytes, until: bytes) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    return await asyncio.wait_for(reader.readuntil(until), WAIT), writer


@pytest.mark.anyio
async def test_a_head_is_not_held_while_its_body_is_slow() -> None:
    global RELEASE
    RELEASE = asyncio.Event()
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)  # the body is not sent yet
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        RELEASE.set()
        assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"ok"
        writer.close()


@pytest.mark.anyio
@pytest.mark.parametrize("connection", [b"keep-alive", b"close"])
async def test_a_head_request_gets_its_head(connection: bytes) -> None:
    async with serving() as port:
        request = b"HEAD / HTTP/1.1\r\nhost: x\r\nconnection: " + connection + b"\r\n\r\n"
        head, writer = await _exchange(port, request, b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 2\r\n" in head
        writer.close()


@pytest.mark.anyio
async def test_a_client_waiting_for_100_continue_gets_it_then_the_answer() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /read HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n")
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"abc")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert await asyncio.wait_for(reader.readexactly(2), WAIT) == b"ok"
        writer.close()


@pytest.mark.anyio
async def test_pipelined_responses_keep_their_order() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"".join(method + b" / HTTP/1.1\r\nhost: x\r\n\r\n" for method in (b"GET", b"HEAD", b"GET")))
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 3 or not data.endswith(b"ok"):
            chunk = await asyncio.wait_for(reader.read(65536), WAIT)
            assert chunk
            data += chunk
        parts = data.split(b"HTTP/1.1 200 OK\r\n")
        assert parts[1].endswith(b"\r\n\r\nok") and parts[2].endswith(b"\r\n\r\n") and parts[3].endswith(b"\r\n\r\nok")
        writer.close()
