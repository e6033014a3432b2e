"""Secrets (from ``.dev.vars`` or ``.env`` files, read by ``dotenv.py``), and keeping their values out of sight.

Values never appear in an error message, a log line, a repr or a dev error page: messages about the file
name the line, not its text, and ``Secrets.redact`` blanks the values out of any text shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

__all__ = ["DEV_VARS_FILE", "REDACTED", "Secrets", "redactor"]

DEV_VARS_FILE = ".dev.vars"
REDACTED = "[secret]"
# Values this short would blank out ordinary words of a traceback; they protect nothing anyway.
_MIN_REDACTED_LENGTH = 4


class Secrets(Mapping[str, str]):
    """Secret values by name, with the line each came from; the repr shows names only."""

    __slots__ = ("_values", "lines", "source")

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        lines: Mapping[str, int] | None = None,
        source: str = DEV_VARS_FILE,
    ) -> None:
        self._values = dict(values or {})
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
        """``text`` with every secret value replaced by ``[secret]``."""
        return _redact(text, self._values.values())


def _redact(text: str, values: Iterable[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= _MIN_REDACTED_LENGTH and value in text:
            text = text.replace(value, REDACTED)
    return text


def redactor(values: Iterable[str]) -> Callable[[str], str] | None:
    """A function blanking ``values`` out of a text as ``Secrets.redact`` does; None if there is nothing to hide."""
    hidden = tuple(sorted({value for value in values if len(value) >= _MIN_REDACTED_LENGTH}, key=len, reverse=True))
    if not hidden:
        return None
    return lambda text: _redact(text, hidden)
