"""Cron triggers: run each worker's scheduled handler when one of its crons comes due.

"What time is it" comes from the injected clock, so a test can move a ``ManualClock`` past a minute
boundary; only the pacing of the loop is real time. A cron fires at most once per check, with the
first due time since the previous check as its ``scheduled_time`` (if the clock jumps a day ahead,
a ``*/5`` cron runs once, not 288 times).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from time import perf_counter
from typing import Any

from bindings.clock import LAST_TIME, Clock

from ..config.cron import CronSchedule, parse_cron
from ..errors import HANDLER_FAILURES
from ..handlers.tracebacks import format_user_traceback
from ..loglines import one_line
from .dispatch import run_scheduled
from .versions import LoadedWorker, Version

__all__ = [
    "DEFAULT_CRON",
    "MAX_SCHEDULED_TIME",
    "Scheduler",
    "check_scheduled_time",
    "fire_scheduled",
    "pick_scheduled",
    "scheduled_cron",
]

logger = logging.getLogger("workerhost")
DEFAULT_MAX_SLEEP = 1.0
DEFAULT_CRON = "* * * * *"  # what a run asked for by hand reports when the worker declares no cron
# A handler turns its scheduledTime into a date: a run asked for by hand gets none past the last one
# a datetime shows, nor one before the epoch.
MAX_SCHEDULED_TIME = LAST_TIME


def check_scheduled_time(when: float) -> float:
    """``when`` (seconds since the epoch) if a scheduled run may be given it; raises ValueError saying why not."""
    if not 0 <= when <= MAX_SCHEDULED_TIME:  # NaN fails this too
        raise ValueError(
            f"a scheduled time must be from 0 to {MAX_SCHEDULED_TIME} seconds since the epoch (9999-12-31), "
            f"got {when!r}"
        )
    return when


def pick_scheduled(version: Version, name: str | None) -> LoadedWorker:
    """The worker whose scheduled handler a run asked for by hand is for; raises ``LookupError`` saying why not.

    ``name`` may be left out when exactly one worker has a scheduled handler.
    """
    workers = version.workers
    if name is not None:
        worker = workers.get(name)
        if worker is None:
            raise LookupError(f'no worker is called "{name}"; workers: {_listed(workers)}')
        if worker.scheduled is None:
            raise LookupError(f'worker "{name}" has no scheduled handler')
        return worker
    candidates = [worker for worker in workers.values() if worker.scheduled is not None]
    if len(candidates) == 1:
        return candidates[0]
    names = _listed(worker.name for worker in candidates)
    raise LookupError(f"say which worker (worker=NAME): workers with a scheduled handler: {names}")


def scheduled_cron(worker: LoadedWorker, cron: str | None) -> str:
    """The cron a run asked for by hand reports: the one given, else the worker's first, else ``DEFAULT_CRON``."""
    return cron or (worker.config.crons[0] if worker.config.crons else DEFAULT_CRON)


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "none"


@lru_cache(maxsize=256)
def _schedule(cron: str) -> CronSchedule:
    return parse_cron(cron)


async def fire_scheduled(worker: LoadedWorker, cron: str, when: float) -> bool:
    """Run a scheduled handler once, logging the outcome; True if it succeeded."""
    started = perf_counter()
    try:
        await run_scheduled(worker, cron, when * 1000)
    except HANDLER_FAILURES as exc:
        trace = format_user_traceback(exc, worker.redact).rstrip()
        shown = one_line(cron)  # a run asked for by hand names any cron it likes
        logger.error('%s: scheduled handler for "%s" raised %s\n%s', worker.name, shown, type(exc).__name__, trace)
        return False
    logger.info('%s: scheduled "%s" ran (%.1fms)', worker.name, one_line(cron), (perf_counter() - started) * 1000)
    return True


class Scheduler:
    """Checks the crons of the current version about once a second (or at the next due minute, if sooner)."""

    def __init__(self, current: Callable[[], Version | None], clock: Clock, max_sleep: float = DEFAULT_MAX_SLEEP):
        self._current = current
        self._clock = clock
        self._max_sleep = max_sleep
        self._running: set[asyncio.Task[Any]] = set()

    async def run(self) -> None:
        """Loop until cancelled."""
        last = self._clock.now()
        while True:
            await asyncio.sleep(self._delay(last))
            now = self._clock.now()
            if now > last:
                self.tick(last, now)
                last = now

    def _delay(self, last: float) -> float:
        due = [_schedule(cron).next_after(last) for worker in self._workers() for cron in worker.config.crons]
        soonest = min((t for t in due if t is not None), default=None)
        if soonest is None:
            return self._max_sleep
        return min(self._max_sleep, max(0.0, soonest - self._clock.now()))

    def _workers(self) -> list[LoadedWorker]:
        version = self._current()
        return [] if version is None else [w for w in version.workers.values() if w.config.crons]

    def tick(self, last: float, now: float) -> list[asyncio.Task[Any]]:
        """Start every cron due in (last, now]; returns the started runs."""
        started = []
        for worker in self._workers():
            for cron in worker.config.crons:
                due = _schedule(cron).next_after(last)
                if due is not None and due <= now:
                    task = asyncio.ensure_future(fire_scheduled(worker, cron, due))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                    started.append(task)
        return started

    async def wait(self) -> None:
        """Wait for scheduled runs in progress."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
