"""Where KV gets the time from.

Expiration is judged against an injected clock so tests (and the pytest plugin) can move time forward
instead of sleeping, as Miniflare's fake timers do.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["LAST_TIME", "Clock", "ManualClock", "SystemClock"]

# The last millisecond a datetime can show (9999-12-31T23:59:59.999Z). Handlers turn times into
# dates, and expirations must fit the store's integers, so no clock (and no scheduled run) goes past it.
LAST_TIME = 253_402_300_799.999


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()``: seconds since the UNIX epoch, as a float."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to.

    Args:
        start: the initial time in seconds since the epoch; defaults to the current wall-clock time,
            so values written with absolute expirations near "now" behave as in production.

    Times are finite and at most ``LAST_TIME`` (9999-12-31); a move past it raises ValueError.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else _checked(float(start))
        self._lock = threading.Lock()  # handlers and tests may share it across threads

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` and return the new time."""
        if not seconds >= 0:  # NaN too
            raise ValueError(f"a clock only moves forward; got advance({seconds!r})")
        with self._lock:
            self._now = _checked(self._now + seconds)
            return self._now

    def set(self, now: float) -> None:
        """Jump to an absolute time (which may be earlier, to replay a scenario)."""
        with self._lock:
            self._now = _checked(float(now))

    def __repr__(self) -> str:
        return f"ManualClock({self._now!r})"


def _checked(now: float) -> float:
    if not (math.isfinite(now) and abs(now) <= LAST_TIME):
        raise ValueError(f"a clock's time must be finite and within 9999-12-31 (±{LAST_TIME} s), got {now!r}")
    return now
