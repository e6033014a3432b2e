"""The per-request path: call a worker's handler, send what it returns, log one line.

This runs on every request and is benchmarked against a bare Starlette app, so it allocates only
the request, the ``ctx`` and whatever the handler builds; ``env`` is shared per version. Handler
failures become a 500 (a traceback page in dev) and never reach the server.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from time import perf_counter
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .accesslog import request_log
from .context import ExecutionContext, ScheduledController
from .pages import bad_return_message, bad_return_page, error_page, wants_html
from .tracebacks import format_user_traceback
from .versions import LoadedWorker
from .workers import HandlerRequest

__all__ = ["dispatch", "log_request", "run_scheduled"]

logger = logging.getLogger("workerhost")


log_request = request_log.log  # one line per request: method, path, status, time taken


async def dispatch(worker: LoadedWorker, scope: Scope, receive: Receive, send: Send, debug: bool) -> None:
    """Serve one HTTP request with ``worker``'s fetch handler."""
    started = perf_counter()
    version = worker.version
    ctx = ExecutionContext()
    version.in_flight += 1
    status = 500
    try:
        try:
            response = await worker.fetch(HandlerRequest(scope, receive, send), worker.env, ctx)
            if not isinstance(response, Response):
                response = _bad_return(worker, response, scope)
        except Exception as exc:
            response = _failed(worker, exc, scope, debug)
        status = response.status_code
        await response(scope, receive, send)
    finally:
        version.leave(ctx, worker)
        log_request(scope["method"], scope["path"], status, started)


def _failed(worker: LoadedWorker, exc: Exception, scope: Scope, debug: bool) -> Response:
    method, path = scope["method"], scope["path"]
    trace = format_user_traceback(exc, worker.redact).rstrip()
    logger.error("%s: %s %s raised %s\n%s", worker.name, method, path, type(exc).__name__, trace)
    return error_page(worker.name, method, path, exc, worker.redact, debug, wants_html(scope))


def _bad_return(worker: LoadedWorker, value: Any, scope: Scope) -> Response:
    if isinstance(value, Coroutine):
        value.close()  # a forgotten await; closing it avoids a second, confusing "never awaited" warning
    logger.error("%s: %s", worker.name, worker.redact(bad_return_message(worker.name, value)))
    return bad_return_page(worker.name, value, worker.redact, wants_html(scope))


async def run_scheduled(worker: LoadedWorker, cron: str, scheduled_time_ms: float) -> None:
    """Run ``worker``'s scheduled handler once; exceptions propagate to the caller."""
    if worker.scheduled is None:
        raise LookupError(f'worker "{worker.name}" has no scheduled handler')
    version = worker.version
    ctx = ExecutionContext()
    version.in_flight += 1
    try:
        await worker.scheduled(ScheduledController(cron, scheduled_time_ms), worker.env, ctx)
    finally:
        version.leave(ctx, worker)
