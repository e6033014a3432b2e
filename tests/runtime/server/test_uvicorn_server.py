"""The guarded HTTP protocol (runtime.server.uvicorn_server) in-process, on real loopback sockets.

The end-to-end cases (silent clients, 408/414/431, running out of descriptors) are in
tests/reliability/test_connection_limits.py; these are the edges of the same rules that a real client
meets: requests split over many reads or sharing one, a body the app is slow to read, ``Expect:
100-continue``, and a client still sending when it is refused.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
from typing import Any

import pytest

from runtime.server.limits import ConnectionLimits
from tests.runtime.server import inprocess

pytestmark = pytest.mark.anyio
TIMEOUT = 0.3  # the header timeout of these servers, in seconds
WAIT = 15.0  # seconds a read may take before the test fails


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/length`` answers how many body bytes it read, after ``?wait=S`` seconds; anything else "ok"."""
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b"ok"
    if scope["path"] == "/scope":  # what the protocol (and uvicorn's proxy headers middleware) made of the request
        seen = {key: scope[key] for key in ("scheme", "method", "path", "raw_path", "query_string", "headers")}
        host, port = scope["client"]
        seen["client"] = host if host == "127.0.0.1" else (host, port)  # the real peer's port differs per run
        body = repr(seen).encode()
    if scope["path"] == "/length":
        query = scope["query_string"].decode()
        if query.startswith("wait="):
            await asyncio.sleep(float(query[5:]))
        length, more = 0, True
        while more:
            message = await receive()
            length += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(length).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def serving(*, plain: bool = False) -> contextlib.AbstractAsyncContextManager[int]:
    """``app`` served with the host's protocol and a short header timeout (or by uvicorn's own); yields its port."""
    return inprocess.serving(app, ConnectionLimits(header_timeout=TIMEOUT, idle_timeout=TIMEOUT), plain=plain)


async def read_answers(reader: asyncio.StreamReader, count: int) -> list[tuple[int, bytes]]:
    """(status, body) of the next ``count`` responses, each with a Content-Length."""
    answers = []
    for _ in range(count):
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:"))
        answers.append((int(lines[0].split()[1]), await asyncio.wait_for(reader.readexactly(length), WAIT)))
    return answers


def request(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_a_request_sent_in_many_small_reads_is_served() -> None:
    data = request("GET", "/", {f"X-Part-{n}": "v" * 100 for n in range(200)})  # a 20 KB head
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for start in range(0, len(data), 64):
            writer.write(data[start : start + 64])
            await writer.drain()
        assert await read_answers(reader, 1) == [(200, b"ok")]
        writer.close()


async def test_requests_sharing_one_read_are_all_answered() -> None:
    big = b"b" * 200_000  # a body larger than the head limit, between two heads in the same write
    data = request("GET", "/") + request("POST", "/length", body=big) + request("GET", "/") * 3
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        answers = await read_answers(reader, 5)
        writer.close()
    assert answers == [(200, b"ok"), (200, b"200000"), (200, b"ok"), (200, b"ok"), (200, b"ok")]


async def test_a_body_the_app_is_slow_to_read_is_not_a_stalled_client() -> None:
    body = b"x" * (4 * 1024 * 1024)  # far more than the host buffers: the client waits on the host
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("POST", f"/length?wait={TIMEOUT * 4}", body=body))
        assert await read_answers(reader, 1) == [(200, str(len(body)).encode())]
        writer.close()


async def test_a_client_waiting_for_100_continue_is_not_a_stalled_client() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = request("POST", f"/length?wait={TIMEOUT * 4}", {"Expect": "100-continue", "Content-Length": "5"})
        writer.write(head)
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        assert await read_answers(reader, 1) == [(200, b"5")]
        writer.close()


async def test_a_body_that_stops_after_the_response_is_closed() -> None:
    # The app answers without reading the body, and the client sends a little more of it, then stops.
    # uvicorn alone disarms its keep-alive timer on those bytes and never arms it again: open for good.
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("POST", "/", {"Content-Length": "100"}) + b"only ten b")
        assert await read_answers(reader, 1) == [(200, b"ok")]
        writer.write(b"and twenty more bytes")
        assert await asyncio.wait_for(reader.read(), WAIT) == b""
        writer.close()


async def test_a_refused_client_that_is_still_sending_gets_the_whole_answer() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: test\r\nX-Big: ")

        async def keep_sending() -> None:
            with contextlib.suppress(ConnectionError):
                for _ in range(64):  # 4 MiB, far past what the host reads before it answers
                    writer.write(b"a" * 65536)
                    await writer.drain()

        sending = asyncio.ensure_future(keep_sending())
        answer = await asyncio.wait_for(reader.read(), WAIT)  # the whole answer, then the end: not a reset
        await sending
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), answer[:100]
    assert answer.endswith(b"The request was refused: its headers are over 32 KB, Cloudflare's limit for them.\n")


async def test_a_connection_in_use_stays_open_and_closes_an_idle_timeout_after_its_last_answer() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            writer.write(request("GET", "/"))
            assert await read_answers(reader, 1) == [(200, b"ok")]
            last = loop.time()
            if last - started > TIMEOUT * 4:  # far past an idle timeout from the first answer
                break
            await asyncio.sleep(TIMEOUT / 4)
        assert await asyncio.wait_for(reader.read(), WAIT) == b""  # closed by the server, having waited
        assert loop.time() - last >= TIMEOUT * 0.9
        writer.close()


async def test_answers_on_a_kept_alive_connection_schedule_no_timer_each() -> None:
    # The wait for the next request is timed by the connection's one timer; uvicorn's own protocol
    # made and cancelled a timer for every response.
    loop = asyncio.get_running_loop()
    scheduled = []
    call_at, call_later = loop.call_at, loop.call_later

    def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        scheduled.append(callback)
        return call_at(when, callback, *args, **kwargs)

    def counting_call_later(delay: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        scheduled.append(callback)
        return call_later(delay, callback, *args, **kwargs)

    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("GET", "/"))
        assert await read_answers(reader, 1) == [(200, b"ok")]
        loop.call_at, loop.call_later = counting_call_at, counting_call_later  # type: ignore[method-assign]
        try:
            for _ in range(20):
                writer.write(request("GET", "/"))
                assert await read_answers(reader, 1) == [(200, b"ok")]
        finally:
            loop.call_at, loop.call_later = call_at, call_later  # type: ignore[method-assign]
        writer.close()
    timers = [callback for callback in scheduled if getattr(callback, "__name__", "") in _CONNECTION_TIMERS]
    assert len(timers) <= 2, timers


_CONNECTION_TIMERS = ("_check", "timeout_keep_alive_handler")  # the host's, and uvicorn's own



SCOPE_REQUESTS = [
    request("GET", "/scope?a=1", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7, 127.0.0.1"}),
    request("GET", "/scope", {"User-Agent": "kept alive: the last request's proxy headers are gone"}),
    request("GET", "/scope", {"x-forwarded-for": "198.51.100.2", "X-FORWARDED-PROTO": " https "}),
    request("GET", "/scope", {"X-Forwarded-Proto": "ftp", "X-Forwarded-Host": "example.com"}),  # not a scheme
    request("GET", "/scope", {"Forwarded": "for=192.0.2.60", "X-Forwarded-Forx": "192.0.2.61"}),
    request("POST", "/scope", {"Expect": "100-continue", "Content-Length": "0", "X-Trailing": "space \t"}),
    request("GET", "/sc%6Fpe?q=%20", {"X-Forwarded-Proto": "http", "x-forwarded-for": "[2001:db8::1]:4711"}),
]


async def test_the_request_scope_is_uvicorns_own_with_or_without_proxy_headers() -> None:
    # The host's protocol sends only requests with X-Forwarded-For/-Proto through uvicorn's proxy
    # headers middleware, and parses headers itself: every scope must still be the one uvicorn makes.
    answers = {}
    for plain in (True, False):
        async with serving(plain=plain) as port:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"".join(SCOPE_REQUESTS))
            answers[plain] = await read_answers(reader, len(SCOPE_REQUESTS))
            writer.close()
    assert answers[False] == answers[True]
    seen = [ast.literal_eval(body.decode()) for _, body in answers[False]]
    assert [(scope["scheme"], scope["client"]) for scope in seen[:5]] == [
        ("https", ("203.0.113.7", 0)),
        ("http", "127.0.0.1"),
        ("https", ("198.51.100.2", 0)),
        ("http", "127.0.0.1"),
        ("http", "127.0.0.1"),
    ]
    assert (b"x-trailing", b"space") in seen[5]["headers"]
    assert seen[6]["client"] == ("2001:db8::1", 4711)


async def test_a_response_head_has_a_date_and_does_not_name_uvicorn() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request("GET", "/"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        writer.close()
    names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:] if line]
    assert b"date" in names and b"server" not in names, head
