"""Secrets (from ``.dev.vars`` or ``.env`` files, read by ``dotenv.py``), and keeping their values out of sight.

Values never appear in an error message, a log line, a repr or a dev error page: messages about the file
name the line, not its text, and ``Secrets.redact`` blanks the values out of any text shown, in
whatever escaped or encoded form the text holds them (``redaction.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from .redaction import REDACTED, Redactor

__all__ = ["DEV_VARS_FILE", "REDACTED", "Redactor", "Secrets", "redactor"]

DEV_VARS_FILE = ".dev.vars"


class Secrets(Mapping[str, str]):
    """Secret values by name, with the line each came from; the repr shows names only."""

    __slots__ = ("_values", "_redactor", "lines", "source")

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        lines: Mapping[str, int] | None = None,
        source: str = DEV_VARS_FILE,
    ) -> None:
        self._values = dict(values or {})
        self._redactor: Redactor | None = None  # built on first use
        self.lines = dict(lines or {})
        self.source = source

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets({sorted(self._values)!r})"

    def redact(self, text: str) -> str:
        """``text`` with every secret value replaced by ``[secret]``, in any form it takes there."""
        if self._redactor is None:
            self._redactor = Redactor(self._values.values())
        return self._redactor(text)


def redactor(values: Iterable[str]) -> Callable[[str], str] | None:
    """A function blanking ``values`` out of a text as ``Secrets.redact`` does; None if there is nothing to hide."""
    found = Redactor(values)
    return found if found else None
