"""One clock per test: the time KV expiry is judged by is the time handler code reads.

``TestClock.now()`` is ``time.time()``. While a test runs, the plugin freezes that time with
time-machine (``travel(..., tick=False)``) at the moment the test starts, so ``time.time()``,
``datetime.now()`` and KV expiry all stand still together, and ``advance()`` moves all of them. A test
that moves time itself, with time-machine (a nested ``travel``, the ``time_machine`` fixture) or
freezegun (``freeze_time``), moves KV expiry with it, because KV reads the same ``time.time()``.
README "Testing your handlers" says it for users.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bindings import ManualClock
from bindings.clock import LAST_TIME

__all__ = ["TestClock"]


class TestClock(ManualClock):
    """A ``ManualClock`` whose time is the process's ``time.time()``, frozen while a test runs.

    ``start()`` freezes time at the current moment, ``stop()`` lets it run again. ``advance`` and
    ``set`` move the frozen time; they raise ``RuntimeError`` when another tool holds time (a
    ``freeze_time`` or a nested ``travel`` of the test's own), as the move could not be seen.
    """

    __test__ = False  # not a test class, whatever pytest's name rules say

    def __init__(self) -> None:
        super().__init__()
        self._travel: Any = None
        self._traveller: Any = None

    def now(self) -> float:
        return time.time()

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._travel is not None

    def start(self) -> None:
        """Freeze time now, for the test that begins (a no-op under an active freezegun, which holds time)."""
        import time_machine

        if self._travel is not None:
            return
        self._now = time.time()
        if _freezegun_active():
            return  # time-machine cannot travel under freezegun; its frozen time is the one clock then
        travel = time_machine.travel(self._now, tick=False)
        self._traveller = travel.start()
        self._travel = travel

    def stop(self) -> None:
        """Let time run again (the test is over)."""
        travel, self._travel, self._traveller = self._travel, None, None
        if travel is not None:
            travel.stop()

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (KV expiry and handlers' clocks alike); returns the new time."""
        if not seconds >= 0:  # NaN too
            raise ValueError(f"a clock only moves forward; got advance({seconds!r})")
        with self._lock:
            target = self.now() + seconds
            self._move(_checked(target), f"advance({seconds!r})")
            return target

    def set(self, now: float) -> None:
        """Jump to an absolute time (which may be earlier, to replay a scenario)."""
        with self._lock:
            self._move(_checked(float(now)), f"set({now!r})")

    def _move(self, target: float, what: str) -> None:
        if self._traveller is None:
            raise RuntimeError(
                f"workerhost clock: {what} needs a running test's clock"
                + ("; freezegun holds time in this test: move it with freezegun" if _freezegun_active() else "")
            )
        before = self._now
        self._traveller.move_to(target)
        self._now = target
        if time.time() != target:  # another traveller, nested inside ours, decides what time it is
            self._traveller.move_to(before)
            self._now = before
            raise RuntimeError(
                f"workerhost clock: {what} cannot move time while the test's own time-machine travel or "
                "freezegun holds it; move time with that tool, and KV expiry follows it"
            )

    def __repr__(self) -> str:
        return f"TestClock({self.now()!r})"


def _freezegun_active() -> bool:
    api = sys.modules.get("freezegun.api")
    return api is not None and bool(getattr(api, "freeze_factories", None))


def _checked(now: float) -> float:
    import math

    if not (math.isfinite(now) and abs(now) <= LAST_TIME):
        raise ValueError(f"a clock's time must be finite and within 9999-12-31 (±{LAST_TIME} s), got {now!r}")
    return now
