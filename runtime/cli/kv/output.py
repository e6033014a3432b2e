"""What ``workerhost kv`` prints: data on stdout, everything else on stderr.

* Lists and maps are JSON, streamed one entry per line as they are read, so a listing of a
  million keys starts at once, never sits in memory, and pipes into ``jq``. Everything goes out as
  UTF-8 bytes whatever the locale.
* Notes ("wrote 3 pairs ...") go to stderr, so stdout stays pure data.
* Progress bars (rich) are drawn on stderr only when it is a terminal; piped or redirected, there
  is none, and rich is not even imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

__all__ = ["JsonArray", "JsonObject", "Progress", "counted", "json_text", "note", "progress", "stdout"]


def stdout() -> BinaryIO:
    """Standard output as bytes."""
    return sys.stdout.buffer


def json_text(value: Any) -> str:
    """Compact JSON, non-ASCII characters as themselves."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def counted(count: int, noun: str) -> str:
    """``1 key``, ``2 keys``: a count with its noun in the right number."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def note(message: str) -> None:
    """A line for the person at the terminal, on stderr."""
    print(message, file=sys.stderr, flush=True)


class _Container:
    """A JSON array or object written entry by entry: ``[`` + one entry per line + ``]``."""

    _open = _close = ""

    def __init__(self, out: BinaryIO | None = None) -> None:
        self._out = out or stdout()
        self._count = 0

    def _write(self, entry: str) -> None:
        lead = f"{self._open}\n  " if self._count == 0 else ",\n  "
        self._out.write((lead + entry).encode("utf-8"))
        self._count += 1

    def close(self) -> None:
        end = f"{self._open}{self._close}\n" if self._count == 0 else f"\n{self._close}\n"
        self._out.write(end.encode("utf-8"))
        self._out.flush()


class JsonArray(_Container):
    """Writes ``[entry, ...]``; ``add`` takes an entry already as JSON text."""

    _open, _close = "[", "]"

    def add(self, entry: str) -> None:
        self._write(entry)


class JsonObject(_Container):
    """Writes ``{"name": entry, ...}``; ``add`` takes the entry already as JSON text."""

    _open, _close = "{", "}"

    def add(self, name: str, entry: str) -> None:
        self._write(f"{json_text(name)}: {entry}")


class Progress:
    """Progress of a long job: ``advance(n)`` on the current step, ``step(description, total)`` to start another."""

    def __init__(
        self, advance: Callable[[int], None] | None = None, step: Callable[[str, int | None], None] | None = None
    ):
        self._advance = advance
        self._step = step

    def advance(self, count: int = 1) -> None:
        if self._advance is not None:
            self._advance(count)

    def step(self, description: str, total: int | None = None) -> None:
        if self._step is not None:
            self._step(description, total)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Progress]:
    """A progress bar on stderr if it is a terminal (transient: it is gone when the job ends); else nothing."""
    if not sys.stderr.isatty():
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
        current = [bar.add_task(description, total=total)]

        def step(text: str, size: int | None) -> None:
            bar.update(current[0], visible=False)
            current[0] = bar.add_task(text, total=size)

        yield Progress(lambda count: bar.advance(current[0], count), step)
