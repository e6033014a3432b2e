"""``wsgi.fetch(app, request, env)``: serve a request with a WSGI app (Django, Flask), as Cloudflare's SDK does.

The app runs off the event loop, on a worker thread, so a slow view never stalls other requests.
The request body is read first (at most 100 MiB, as a Worker accepts) and handed over as
``wsgi.input``; ``environ["workers.env"]`` is the worker's ``env``. The response is returned once the
app has started it and produced its first chunk; later chunks are produced on the thread as they
are sent, so a streamed response streams. An exception in the app propagates: the host answers 500.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from .request import Request
from .response import Response

__all__ = ["build_environ", "fetch"]

logger = logging.getLogger("workerhost")
_NULL_BODY = frozenset({101, 103, 204, 205, 304})
_END = object()


def _native(text: str) -> str:
    """A WSGI "native string": the UTF-8 bytes of ``text`` as latin-1 characters (PEP 3333)."""
    return text.encode("utf-8").decode("latin-1")


def build_environ(request: Request, env: Any, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ for ``request`` with its ``body``, and ``workers.env``."""
    url = urlsplit(request.url)
    scheme = url.scheme or "http"
    client = request.client
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _native(unquote(url.path or "/")),
        "QUERY_STRING": url.query,
        "SERVER_NAME": url.hostname or "localhost",
        "SERVER_PORT": str(url.port or (443 if scheme == "https" else 80)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": client[0] if client else "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "workers.env": env,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    if body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class _Started:
    """What the app passed to ``start_response``, and what it wrote with the old ``write()`` callable."""

    def __init__(self) -> None:
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None:
            try:
                if self.status is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called more than once")
        self.status, self.headers = status, list(headers)
        return self.write

    def write(self, chunk: bytes) -> None:
        if self.status is None:
            raise AssertionError("write() called before start_response()")
        if chunk:
            self.written.append(bytes(chunk))


def _start(app: Any, environ: dict[str, Any]) -> tuple[_Started, Iterable[bytes], Iterator[bytes], Any]:
    # On the worker thread: call the app and take its first non-empty chunk (some apps call
    # start_response only then).
    started = _Started()
    result = app(environ, started.start_response)
    chunks = iter(result)
    first: Any = _END
    try:
        for chunk in chunks:
            if chunk:
                first = chunk
                break
        if started.status is None:
            raise RuntimeError("the WSGI application did not call start_response()")
    except BaseException:
        _close(result)
        raise
    return started, result, chunks, first


def _next(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _close(result: Any) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


async def _rest(started: _Started, first: Any, result: Any, chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    try:
        for chunk in started.written:
            yield chunk
        if first is not _END:
            yield bytes(first)
        while (produced := await asyncio.to_thread(_next, chunks)) is not None:
            if produced:
                yield bytes(produced)
    finally:
        await asyncio.to_thread(_close, result)


async def fetch(app: Any, req: Any, env: Any, ctx: Any = None) -> Response:
    """Serve ``req`` (a ``Request``, or ``request.js_object``) with the WSGI ``app``; returns its response."""
    request = req if isinstance(req, Request) else Request(req)
    body = await request.read_body()
    environ = build_environ(request, env, body)
    started, result, chunks, first = await asyncio.to_thread(_start, app, environ)
    assert started.status is not None
    code = int(started.status.split(" ", 1)[0])
    if code in _NULL_BODY:
        await asyncio.to_thread(_close, result)
        response = Response(None, code)
    elif isinstance(result, list | tuple):  # the whole body is at hand (Django, Flask): send it with its length
        rest = [bytes(chunk) for chunk in chunks if chunk]
        body = b"".join([*started.written, *([bytes(first)] if first is not _END else []), *rest])
        await asyncio.to_thread(_close, result)
        response = Response(body, code)
        length = [(b"content-length", str(len(body)).encode())]
        response.raw_headers = length + [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in started.headers
            if name.lower() != "content-length"
        ]
        return response
    else:
        response = Response(_rest(started, first, result, chunks), code, started.status.partition(" ")[2])
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in started.headers
    ]
    return response
