"""What a handler gets besides the request and env: ``ctx`` (ExecutionContext) and the cron ``controller``.

``ctx.wait_until(coro)`` work starts once the response has been sent, as Cloudflare runs it after the
response; the host keeps the task until it finishes, and awaits it on shutdown and before the code
version it belongs to retires.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["ExecutionContext", "ScheduledController"]


class ExecutionContext:
    """The ``ctx`` of one request or scheduled run."""

    __slots__ = ("_waiting", "_sink", "pass_through")

    def __init__(self) -> None:
        self._waiting: list[Awaitable[Any]] | None = None
        self._sink: Callable[[Awaitable[Any]], None] | None = None
        self.pass_through = False

    def wait_until(self, awaitable: Awaitable[Any]) -> None:
        """Keep ``awaitable`` running after the response; a coroutine starts once the response is sent."""
        if not inspect.isawaitable(awaitable):
            raise TypeError(
                f"wait_until() needs an awaitable (a coroutine, task or future), got {type(awaitable).__name__}"
            )
        if self._sink is not None:
            self._sink(awaitable)
        elif self._waiting is None:
            self._waiting = [awaitable]
        else:
            self._waiting.append(awaitable)

    waitUntil = wait_until  # the Workers spelling

    def pass_through_on_exception(self) -> None:
        """Recorded only: locally there is no origin to fall back to, so an exception still gives a 500."""
        self.pass_through = True

    passThroughOnException = pass_through_on_exception

    @property
    def props(self) -> dict[str, Any]:
        """``ctx.props`` of Workers: nothing is passed between workers locally."""
        return {}

    def release(self, sink: Callable[[Awaitable[Any]], None]) -> None:
        """The response is sent: start what was waiting, and anything passed to wait_until from now on."""
        self._sink = sink
        waiting, self._waiting = self._waiting, None
        if waiting:
            for awaitable in waiting:
                sink(awaitable)


class ScheduledController:
    """The ``controller`` a scheduled handler receives: ``cron``, ``scheduled_time`` (ms since the epoch)."""

    __slots__ = ("cron", "scheduled_time", "retry_disabled")
    type = "scheduled"

    def __init__(self, cron: str, scheduled_time: float) -> None:
        self.cron = cron
        self.scheduled_time = scheduled_time
        self.retry_disabled = False

    @property
    def scheduledTime(self) -> float:  # the Workers spelling
        return self.scheduled_time

    def no_retry(self) -> None:
        """Accepted for compatibility; local runs are never retried anyway."""
        self.retry_disabled = True

    noRetry = no_retry

    def __repr__(self) -> str:
        return f"ScheduledController(cron={self.cron!r}, scheduled_time={self.scheduled_time!r})"
