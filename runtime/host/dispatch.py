"""The per-request path: call a worker's handler, send what it returns, log one line.

This runs on every request and is benchmarked against a bare Starlette app, so it allocates only
the request, the ``ctx`` and whatever the handler builds; ``env`` is shared per version. Handler
failures become a 500 (a traceback page in dev) and never reach the server: an exception, a
``sys.exit()``, a return value that is not a Response, or a Response that fails while it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from time import perf_counter
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bindings.fidelity.operations import OperationBudget, end_invocation, start_invocation

from ..errors import HANDLER_FAILURES
from ..handlers.ctx import ExecutionContext, ScheduledController
from ..handlers.tracebacks import format_user_traceback
from ..handlers.workers import HandlerRequest, RequestBodyTooLargeError, Response as WorkersResponse
from ..handlers.workers.context import current
from ..loglines import one_line
from .accesslog import RequestLog
from .failures import report
from .pages import bad_return_message, bad_return_page, error_page, too_large_page, wants_html
from .versions import LoadedWorker

__all__ = ["dispatch", "run_scheduled"]

logger = logging.getLogger("workerhost")
_CURRENT = current()  # which worker and request: what `from workers import env, wait_until` reads
_STARLETTE_CALL = Response.__call__
_WORKERS_CALL = WorkersResponse.__call__


async def dispatch(
    worker: LoadedWorker, scope: Scope, receive: Receive, send: Send, debug: bool, log: RequestLog
) -> None:
    """Serve one HTTP request with ``worker``'s fetch handler, and write its line to ``log``."""
    started = perf_counter()
    version = worker.version
    ctx = ExecutionContext()
    # ``limits: strict``: the invocation, wait_until work included, gets its budget of KV operations.
    invocation = start_invocation(OperationBudget()) if worker.counts_operations else None
    version.enter()
    status = 500
    token = _CURRENT.set((worker.scope, ctx))
    try:
        try:
            response = await worker.fetch(HandlerRequest(scope, receive, send), worker.env, ctx)
            if not isinstance(response, Response):
                response = _bad_return(worker, response, scope)
        except HANDLER_FAILURES as exc:
            response = _failed(worker, exc, scope, debug)
        status = response.status_code
        try:
            sends = type(response).__call__
            if response.background is None and (
                sends is _STARLETTE_CALL or (sends is _WORKERS_CALL and response._stream is None)  # type: ignore[attr-defined]
            ):
                # A whole body (Response, PlainTextResponse, JSONResponse...): the two messages its
                # __call__ would send, sent here (README "Benchmarks").
                await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
                await send({"type": "http.response.body", "body": response.body})
            else:
                await response(scope, receive, send)
        except ClientDisconnect:
            pass  # the client went away mid-response: nobody is left to tell
        except Exception as exc:
            status = 500
            await _send_failed(worker, exc, scope, receive, send, debug)
    finally:
        version.leave(ctx, worker)  # starts the wait_until work, in the invocation's context
        if invocation is not None:
            end_invocation(invocation)
        _CURRENT.reset(token)
        log.log(scope["method"], scope["path"], status, started)


def _failed(worker: LoadedWorker, exc: BaseException, scope: Scope, debug: bool) -> Response:
    if isinstance(exc, RequestBodyTooLargeError):
        return too_large_page(str(exc), wants_html(scope))
    report(exc)
    method, path = scope["method"], scope["path"]
    trace = format_user_traceback(exc).rstrip()
    logger.error("%s", worker.redact(f"{worker.name}: {method} {one_line(path)} raised {type(exc).__name__}\n{trace}"))
    return error_page(worker.name, method, path, exc, worker.redact, debug, wants_html(scope))


async def _send_failed(
    worker: LoadedWorker, exc: Exception, scope: Scope, receive: Receive, send: Send, debug: bool
) -> None:
    # The handler returned a Response whose sending failed (a body iterator that raises, a bad status).
    # Before anything was sent the client still gets the 500 page; after, the server closes the connection.
    report(exc)
    method, path = scope["method"], scope["path"]
    trace = format_user_traceback(exc).rstrip()
    message = f"{worker.name}: {method} {one_line(path)}: sending its response raised {type(exc).__name__}\n{trace}"
    logger.error("%s", worker.redact(message))
    page = error_page(worker.name, method, path, exc, worker.redact, debug, wants_html(scope))
    try:
        await page(scope, receive, send)
    except Exception:
        pass  # the response had started: the server ends the connection


def _bad_return(worker: LoadedWorker, value: Any, scope: Scope) -> Response:
    if isinstance(value, Coroutine):
        value.close()  # a forgotten await; closing it avoids a second, confusing "never awaited" warning
    message = worker.redact(bad_return_message(worker.name, value, worker.redact))
    report(TypeError(message))
    logger.error("%s: %s", worker.name, message)
    return bad_return_page(worker.name, value, worker.redact, wants_html(scope))


async def run_scheduled(worker: LoadedWorker, cron: str, scheduled_time_ms: float) -> None:
    """Run ``worker``'s scheduled handler once; exceptions propagate to the caller."""
    if worker.scheduled is None:
        raise LookupError(f'worker "{worker.name}" has no scheduled handler')
    version = worker.version
    ctx = ExecutionContext()
    invocation = start_invocation(OperationBudget()) if worker.counts_operations else None
    version.enter()
    token = _CURRENT.set((worker.scope, ctx))
    try:
        await worker.scheduled(ScheduledController(cron, scheduled_time_ms), worker.env, ctx)
    finally:
        _CURRENT.reset(token)
        version.leave(ctx, worker)
        if invocation is not None:
            end_invocation(invocation)
