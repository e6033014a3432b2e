"""Noticing handler code that blocks the event loop, and saying which, where, and for how long.

Every request the host serves runs on one event loop, so a handler that blocks it (``time.sleep``,
a CPU-bound loop, a synchronous HTTP call) stalls every other request meanwhile. A heartbeat callback
runs on the loop every ``INTERVAL``; a watcher thread checks that it keeps running. When it has not run
for ``threshold`` seconds, the thread looks at what the loop's thread is executing to find the culprit:
the request being handled, ``wait_until`` work or a scheduled run, and the line of the script. Once
the loop runs again, the heartbeat logs::

    [warning] worker counter blocked the event loop for 1234 ms (GET /counter) at counter/worker.py:12 in fetch

A block that goes on (an endless loop) is reported while it lasts, since its end may never come.
Nothing here runs per request: the whole cost is one callback on the loop and one wake-up of the thread
per ``INTERVAL``. Stalls not traced to handler code (the machine was busy, the host's own start-up)
are logged at debug level only.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from types import FrameType

from ..loglines import one_line
from .dispatch import dispatch, run_scheduled
from .versions import LoadedWorker

__all__ = ["DEFAULT_THRESHOLD", "INTERVAL", "Culprit", "LoopWatchdog", "find_culprit"]

logger = logging.getLogger("workerhost")

INTERVAL = 0.05  # seconds between heartbeats; a reported duration is at most this much too long
DEFAULT_THRESHOLD = 0.25  # seconds without a heartbeat that count as a block worth reporting
ONGOING_FIRST = 5.0  # seconds after which a block still going on is reported (then at 2x, 4x, ...)
_HINT = "nothing else is served meanwhile; await, or run blocking code with asyncio.to_thread()"

# The frames that say what the loop is running, each with the function that reads it.
_DISPATCH = dispatch.__code__
_WAIT_UNTIL = LoadedWorker._guarded.__code__
_SCHEDULED = run_scheduled.__code__


@dataclass(frozen=True, slots=True)
class Culprit:
    """What was blocking the loop: a worker, what it was doing, and where in its code."""

    worker: str
    doing: str  # "GET /counter", "wait_until work", 'scheduled "*/5 * * * *"'
    where: str | None  # "counter/worker.py:12 in fetch"

    def describe(self, what: str) -> str:
        """``worker <name> <what> (<doing>) at <where>``."""
        at = f" at {self.where}" if self.where else ""
        return f"worker {self.worker} {what} ({self.doing}){at}"


def _doing(frame: FrameType) -> tuple[object, str] | None:
    """The worker (as the frame holds it) and what it is doing, if ``frame`` is where handler code is run."""
    code = frame.f_code
    if code is not _DISPATCH and code is not _WAIT_UNTIL and code is not _SCHEDULED:
        return None
    local = frame.f_locals  # the loop's thread is paused between bytecodes while we hold the GIL
    if code is _DISPATCH:
        scope = local.get("scope") or {}
        return local.get("worker"), f"{scope.get('method', '?')} {one_line(str(scope.get('path', '?')))}"
    if code is _WAIT_UNTIL:
        return local.get("self"), "wait_until work"
    return local.get("worker"), f'scheduled "{one_line(str(local.get("cron")))}"'


def _where(inner: list[FrameType], worker: LoadedWorker) -> str | None:
    # The innermost frame in the worker's folder: its script or a module beside it, not the library it calls.
    folder = worker.config.script.parent
    shown = Path(worker.config.script_display).parent
    for frame in inner:
        filename = frame.f_code.co_filename
        if filename.startswith(f"{folder}/") or filename.startswith(f"{folder}\\"):
            name = shown / Path(filename).relative_to(folder)
            return f"{name.as_posix()}:{frame.f_lineno} in {frame.f_code.co_name}"
    return None


def find_culprit(frame: FrameType | None) -> Culprit | None:
    """The handler code running in ``frame`` (a thread's innermost frame), or None if it is not handler code."""
    inner: list[FrameType] = []
    while frame is not None:
        found = _doing(frame)
        if found is not None and isinstance(found[0], LoadedWorker):
            return Culprit(found[0].name, found[0].redact(found[1]), _where(inner, found[0]))
        inner.append(frame)
        frame = frame.f_back
    return None


class LoopWatchdog:
    """Reports blocks of the running event loop (see the module docstring).

    Args:
        threshold: seconds without a heartbeat that count as a block.
        interval: seconds between heartbeats.
        ongoing_after: seconds after which a block still going on is reported, and again at each doubling.
    """

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, interval: float = INTERVAL, ongoing_after: float = ONGOING_FIRST
    ) -> None:
        self.threshold = threshold
        self.interval = interval
        self.ongoing_after = ongoing_after
        self._last = monotonic()
        self._culprit: tuple[float, Culprit] | None = None  # (the heartbeat the block began after, who)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._handle: asyncio.TimerHandle | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching the running loop."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._last = monotonic()
        self._handle = self._loop.call_later(self.interval, self._beat)
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="workerhost-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (from the loop's thread)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # --- on the loop -----------------------------------------------------------------------------

    def _beat(self) -> None:
        now = monotonic()
        began, self._last = self._last, now
        if now - began >= self.threshold:
            found = self._culprit
            culprit = found[1] if found is not None and found[0] == began else None
            self._culprit = None
            _report(now - began, culprit)
        assert self._loop is not None
        self._handle = self._loop.call_later(self.interval, self._beat)

    # --- on the watcher thread -------------------------------------------------------------------

    def _watch(self) -> None:
        ongoing = self.ongoing_after
        while not self._stop.wait(self.interval):
            began = self._last
            stalled = monotonic() - began
            if stalled < self.threshold:
                ongoing = self.ongoing_after
                continue
            if self._culprit is None or self._culprit[0] != began:
                culprit = find_culprit(sys._current_frames().get(self._loop_thread))
                if culprit is not None:
                    self._culprit = (began, culprit)
            if stalled >= ongoing:
                found = self._culprit
                _report(stalled, found[1] if found is not None and found[0] == began else None, ongoing=True)
                ongoing *= 2


def _report(seconds: float, culprit: Culprit | None, *, ongoing: bool = False) -> None:
    ms = round(seconds * 1000)
    verb = f"has blocked the event loop for {ms} ms so far" if ongoing else f"blocked the event loop for {ms} ms"
    if culprit is None:
        logger.debug("something %s", verb)
        return
    logger.warning("%s: %s", culprit.describe(verb), _HINT)
