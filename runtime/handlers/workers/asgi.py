"""``asgi.fetch(app, request, env)``: serve a request with any ASGI app (FastAPI, Starlette), as Cloudflare's SDK does.

Scripts import it as ``from workers import asgi`` or, as Cloudflare's examples do, ``import asgi``.

* The app sees ``scope["env"]`` (the worker's ``env``), the path percent-decoded and ``raw_path``
  as sent, and the request body streamed in as it arrives.
* Lifespan: the app's startup runs before its first request and its shutdown when the worker retires
  (a reload, or the host stopping), once per loaded app; what startup puts in ``state`` reaches every
  request (``scope["state"]``). Called outside a worker (a unit test), startup and shutdown wrap the
  one request, as Cloudflare runs them. An app without lifespan support is served all the same.
* The response is returned as soon as the app starts its body, so a streamed response streams.
* The app keeps running after its response (Starlette's background tasks), as ``ctx.wait_until``
  work: the host waits for it before the worker retires.
* An exception before the response starts propagates, and the host answers 500 (with the
  traceback in dev); after it (Starlette's error middleware has already sent its 500), it is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from .context import current_ctx, current_scope
from .request import Request
from .response import Response

__all__ = ["fetch", "websocket"]

logger = logging.getLogger("workerhost")
ASGI = {"version": "3.0", "spec_version": "2.3"}
_NULL_BODY = frozenset({101, 103, 204, 205, 304})
_SHUTDOWN_TIMEOUT = 30.0
_background: set[asyncio.Future[Any]] = set()


def _keep(task: asyncio.Future[Any]) -> None:
    _background.add(task)
    task.add_done_callback(_background.discard)


class _Lifespan:
    """One ASGI lifespan cycle of an app: ``start`` runs its startup, ``stop`` its shutdown."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._receive: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._started: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """Run the startup; True if the app supports lifespan. A failed startup raises RuntimeError."""
        self._receive.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.ensure_future(self._run())
        _keep(self._task)
        return await self._started

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI, "state": self.state}
        try:
            await self.app(scope, self._receive.get, self._send)
        except Exception as exc:
            if not self._started.done():  # raising before startup means "no lifespan support" (ASGI spec)
                self._started.set_result(False)
                return
            logger.error("the ASGI app's lifespan raised %s: %s", type(exc).__name__, exc)
        if not self._started.done():
            self._started.set_result(False)
        if not self._stopped.done():
            self._stopped.set_result(None)

    async def _send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete" and not self._started.done():
            self._started.set_result(True)
        elif kind == "lifespan.startup.failed" and not self._started.done():
            self._started.set_exception(RuntimeError(message.get("message") or "ASGI lifespan startup failed"))
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed") and not self._stopped.done():
            if kind.endswith("failed"):
                logger.error("the ASGI app's shutdown failed: %s", message.get("message", ""))
            self._stopped.set_result(None)

    async def stop(self) -> None:
        if not self._started.done() or self._started.exception() is not None or not self._started.result():
            return
        self._receive.put_nowait({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(asyncio.shield(self._stopped), _SHUTDOWN_TIMEOUT)
        except TimeoutError:
            logger.warning("the ASGI app's shutdown did not finish within %.0f s", _SHUTDOWN_TIMEOUT)


async def _lifespan_for(app: Any) -> tuple[_Lifespan, bool]:
    """The app's started lifespan, and whether it is this request's alone (outside any worker)."""
    scope = current_scope()
    if scope is None:
        lifespan = _Lifespan(app)
        await lifespan.start()
        return lifespan, True
    found = scope.lifespans.get(id(app))
    if found is None or found.app is not app:
        found = _Lifespan(app)
        scope.lifespans[id(app)] = found
        scope.on_close(found.stop)
        await found.start()
    elif not found._started.done():
        await asyncio.shield(found._started)
    return found, False


def request_scope(request: Request, env: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The ASGI HTTP scope for ``request``, with ``env`` (and a copy of the lifespan ``state``)."""
    url = urlsplit(request.url)
    raw_path = url.path or "/"
    port = url.port or (443 if url.scheme == "https" else 80)
    return {
        "type": "http",
        "asgi": ASGI,
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme or "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode("latin-1", "replace"),
        "query_string": url.query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": request.headers.raw(),
        "server": (url.hostname or "localhost", port),
        "client": request.client,
        "env": env,
        "state": dict(state),
    }


class _Exchange:
    """One request through the app: what it receives, and the response it sends, as it sends it."""

    def __init__(self, request: Request) -> None:
        self.body = request.body
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.first: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.finished = asyncio.Event()
        self.streaming = False
        self.body_done = False

    async def receive(self) -> dict[str, Any]:
        if not self.body_done:
            chunk = None if self.body is None else await anext(self.body, None)
            if chunk is not None:
                return {"type": "http.request", "body": chunk, "more_body": True}
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
            return
        if kind != "http.response.body":
            return
        body = bytes(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if self.streaming:
            if body:
                await self.chunks.put(body)
            if not more:
                await self.chunks.put(None)
            return
        if self.first.done():
            return
        if more:
            self.streaming = True
            if body:
                await self.chunks.put(body)
            self.first.set_result(self._response(self._stream()))
            return
        self.first.set_result(self._response(None if self.status in _NULL_BODY else body))
        self.finished.set()

    def _response(self, body: Any) -> Response:
        response = Response(body, self.status)
        response.raw_headers = [(name.lower(), value) for name, value in self.headers]
        if not isinstance(body, bytes):
            return response
        if not any(name == b"content-length" for name, _ in response.raw_headers) and self.status not in _NULL_BODY:
            response.raw_headers.append((b"content-length", str(len(body)).encode()))
        return response

    async def _stream(self) -> AsyncIterator[bytes]:
        try:
            while (chunk := await self.chunks.get()) is not None:
                yield chunk
        finally:
            self.finished.set()  # sent, or the client went away: either way the app may see a disconnect


async def fetch(app: Any, req: Any, env: Any, ctx: Any = None) -> Response:
    """Serve ``req`` (a ``Request``, or ``request.js_object``) with the ASGI ``app``; returns its response."""
    request = req if isinstance(req, Request) else Request(req)
    lifespan, own = await _lifespan_for(app)
    exchange = _Exchange(request)

    async def run() -> None:
        try:
            await app(request_scope(request, env, lifespan.state), exchange.receive, exchange.send)
            if not exchange.first.done():
                raise RuntimeError("the ASGI application returned without sending a response")
        except BaseException as exc:
            if not exchange.first.done():
                exchange.first.set_exception(exc)
            else:
                logger.error(
                    "the ASGI app raised %s after its response started: %s", type(exc).__name__, exc, exc_info=exc
                )
                if exchange.streaming:
                    exchange.chunks.put_nowait(None)
            if not isinstance(exc, Exception):
                raise
        finally:
            exchange.finished.set()
            if own:
                await lifespan.stop()

    task = asyncio.ensure_future(run())
    waiting = ctx if ctx is not None else current_ctx()
    if waiting is not None and hasattr(waiting, "wait_until"):
        waiting.wait_until(task)  # background tasks run on after the response, as wait_until work
    else:
        _keep(task)
    return await exchange.first


async def websocket(app: Any, req: Any, env: Any = None) -> Response:
    """WebSockets through ASGI are not served locally; this says so."""
    raise NotImplementedError("asgi.websocket is not available locally: workerhost serves HTTP requests only")


def __getattr__(name: str) -> Any:
    if name == "env":  # FastAPI's `env = Depends(asgi.env)`, as Cloudflare's SDK offers it
        from fastapi import Depends, Request as FastAPIRequest

        async def env(request: FastAPIRequest) -> Any:
            return request.scope["env"]

        dependency: Callable[..., Awaitable[Any]] = Depends(env)
        return dependency
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
