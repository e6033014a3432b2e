"""Secrets from ``.dev.vars`` (the file wrangler dev reads), and keeping their values out of sight.

The file is dotenv-style: ``NAME=value`` lines, ``#`` comments, optional ``export`` and quotes. Values
never appear in an error message, a log line, a repr or a dev error page: messages about the file
name the line, not its text, and ``Secrets.redact`` blanks the values out of any text shown, in
whatever escaped or encoded form the text holds them (``redaction.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from ..errors import ConfigError
from .redaction import REDACTED, Redactor

__all__ = ["DEV_VARS_FILE", "REDACTED", "Redactor", "Secrets", "read_dev_vars", "redactor"]

DEV_VARS_FILE = ".dev.vars"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


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


def read_dev_vars(path: Path, display: str) -> Secrets:
    """Parse the ``.dev.vars`` file at ``path`` (missing means no secrets); ``display`` names it in errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Secrets(source=display)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{display}: cannot be read: {exc.__class__.__name__}") from None
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        parsed = _parse_line(line, number, display)
        if parsed is not None:
            values[parsed[0]] = parsed[1]
            lines[parsed[0]] = number
    return Secrets(values, lines, display)


def _parse_line(line: str, number: int, display: str) -> tuple[str, str] | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("export "):
        stripped = stripped[len("export ") :].lstrip()
    name, equals, raw = stripped.partition("=")
    name = name.strip()
    # The line's text is never quoted back: it may hold a secret.
    if not equals:
        raise ConfigError(f"{display}:{number}: expected NAME=value, but the line has no '='")
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{display}:{number}: {name!r} is not a variable name; expected letters, digits and _")
    return name, _parse_value(raw.strip(), number, display)


def _parse_value(raw: str, number: int, display: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        while quote == '"' and end > 0 and raw[end - 1] == "\\":
            end = raw.find(quote, end + 1)
        if end < 0:
            raise ConfigError(f"{display}:{number}: the value's opening {quote} is never closed")
        inner = raw[1:end]
        return _unescape(inner) if quote == '"' else inner
    comment = raw.find(" #")
    return (raw if comment < 0 else raw[:comment]).strip()


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)
