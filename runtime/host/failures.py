"""Handler failures that a caller wants to see as exceptions, not only as the 500 page.

A request's handler that raises (or returns something that is not a Response) is answered with a 500,
and the host serves on. The pytest plugin's clients also want the exception itself, to raise it in the
test as Starlette's ``TestClient`` does: they ``collect`` around a request, and ``dispatch`` reports
each failure to the list that request collects into. Outside ``collect`` a report goes nowhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["collect", "report"]

_SINK: ContextVar[list[BaseException] | None] = ContextVar("workerhost_handler_failures", default=None)


@contextlib.contextmanager
def collect() -> Iterator[list[BaseException]]:
    """The failures of the requests handled within (in this context), in order."""
    failures: list[BaseException] = []
    token = _SINK.set(failures)
    try:
        yield failures
    finally:
        _SINK.reset(token)


def report(exc: BaseException) -> None:
    """Hand ``exc`` to whoever collects in this context, if anyone does."""
    sink = _SINK.get()
    if sink is not None:
        sink.append(exc)
