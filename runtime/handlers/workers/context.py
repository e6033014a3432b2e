"""Which worker (and which request) code is running for: what ``from workers import env, wait_until`` reads.

Cloudflare's ``workers`` module hands out the running worker's ``env`` and ``waitUntil`` at module
level. Here one process runs many workers (and versions of them), so each loaded worker has a
``WorkerScope`` (its ``env``, and work to do when it retires, such as an ASGI app's lifespan
shutdown). The host marks the scope while a script is imported and, with the request's ``ctx``,
while a request or scheduled run is handled; a context variable carries it into every task the
handler starts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["WorkerScope", "current", "current_ctx", "current_scope", "running", "scope_of_import"]

logger = logging.getLogger("workerhost")


class WorkerScope:
    """What one loaded worker shares across its requests: its ``env`` and what to do when it retires."""

    __slots__ = ("env", "name", "_closers", "lifespans", "outbound")

    def __init__(self, env: Any, name: str = "") -> None:
        self.env = env
        self.name = name
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self.lifespans: dict[int, Any] = {}  # id(app) -> its started lifespan (runtime.handlers.workers.asgi)
        # The httpx transport the worker's outbound ``fetch`` goes through; None for the network. A test
        # answers a handler's requests itself by setting it (the pytest plugin's ``workerhost_fetch``).
        self.outbound: Any = None

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` when the worker retires (a reload replaced it, or the host stops)."""
        self._closers.append(closer)

    async def close(self) -> None:
        """Run what ``on_close`` registered, newest first; failures are logged, not raised."""
        closers, self._closers = self._closers, []
        for closer in reversed(closers):
            try:
                await closer()
            except Exception:
                logger.exception("%s: cleaning up when the worker retired failed", self.name or "worker")


# (scope, ctx): one variable, so the request path sets one value.
_CURRENT: ContextVar[tuple[WorkerScope, Any] | None] = ContextVar("workerhost_current", default=None)


def current() -> ContextVar[tuple[WorkerScope, Any] | None]:
    """The context variable itself: the host sets it per request (``_CURRENT.set((scope, ctx))``)."""
    return _CURRENT


def current_scope() -> WorkerScope | None:
    found = _CURRENT.get()
    return None if found is None else found[0]


def current_ctx() -> Any:
    found = _CURRENT.get()
    return None if found is None else found[1]


@contextlib.contextmanager
def scope_of_import(scope: WorkerScope) -> Iterator[None]:
    """Mark ``scope`` while its script is imported, so ``from workers import env`` at the top gets its env."""
    token = _CURRENT.set((scope, None))
    try:
        yield
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def running(scope: WorkerScope, ctx: Any) -> Iterator[None]:
    """Mark ``scope`` and the request's ``ctx`` while a handler runs."""
    token = _CURRENT.set((scope, ctx))
    try:
        yield
    finally:
        _CURRENT.reset(token)
