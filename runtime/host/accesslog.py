"""The one-line-per-request log: ``GET /counter 200 0.8ms``.

It is written on every request, so it is cheap: served by ``workerhost dev`` the lines are buffered
and written to stderr together a few milliseconds later (one write for a burst, not one per request).
In-process (tests, the pytest plugin) lines go through the ``workerhost.request`` logger instead.
Each ``Host`` owns one, with the redactor of its own secrets: two hosts in one process (tests) never
blank each other's secrets or write each other's lines.
Query strings are left out: they often carry tokens. Paths may carry one too (a webhook URL), so
secret values and API tokens are blanked out of each burst as it is written, not per request. A
path's control characters are percent-encoded (``runtime.loglines``): one request, one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from time import perf_counter
from typing import TextIO

from ..loglines import one_line

__all__ = ["RequestLog"]

FLUSH_DELAY = 0.02  # seconds a line may wait in the buffer


class RequestLog:
    """Formats and writes request lines; ``use_stream`` switches it to buffered writes."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("workerhost.request")
        self._stream: TextIO | None = None
        self._lines: list[str] = []
        self._flush_scheduled = False
        self.redact: Callable[[str], str] | None = None  # set by its host: hides secrets and API tokens

    def use_stream(self, stream: TextIO | None) -> None:
        """Write lines to ``stream`` (buffered); None goes back to the logging module."""
        self.flush()
        self._stream = stream

    def log(self, method: str, path: str, status: int, started: float) -> None:
        elapsed = (perf_counter() - started) * 1000
        path = one_line(path)
        if self._stream is None:
            line = f"{method} {path} {status} {elapsed:.1f}ms"
            self._logger.info("%s", line if self.redact is None else self.redact(line))
            return
        self._lines.append(f"{method} {path} {status} {elapsed:.1f}ms\n")
        if not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)
            except RuntimeError:  # no loop (a direct call): write now
                self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        self._flush_scheduled = False
        if self._lines and self._stream is not None:
            lines, self._lines = self._lines, []
            text = "".join(lines)
            self._stream.write(text if self.redact is None else self.redact(text))
            self._stream.flush()

