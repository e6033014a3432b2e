"""TOML as wrangler reads ``wrangler.toml``, with line marks for config errors.

``tomllib`` parses the document; it keeps no positions, so a light scan of the text finds the line
of each table header (``[env.staging]``, ``[[kv_namespaces]]``) and each ``key = value``. The result
is the same ``MarkedMap``/``MarkedList`` shape the other config readers produce. Items of an inline
array share the line of their key: near enough to find them.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from .yamlmarks import MarkedList, MarkedMap

__all__ = ["TomlError", "parse_toml"]

_LINE_AND_COLUMN = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_BARE_OR_QUOTED = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*')

Path = tuple[str | int, ...]


class TomlError(Exception):
    """The text is not valid TOML; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


def _dotted(text: str) -> list[str] | None:
    """The parts of a dotted key (``a."b.c".d``), or None if ``text`` is not one."""
    parts, pos = [], 0
    while True:
        match = _BARE_OR_QUOTED.match(text, pos)
        if match is None or match.end() == pos:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        pos = match.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            return None
        pos += 1


def _locate(text: str) -> dict[Path, int]:
    """The line of each table and key, by its path (array-of-tables items by index)."""
    lines: dict[Path, int] = {}
    counts: dict[Path, int] = {}
    table: Path = ()
    in_string: str | None = None
    depth = 0  # open brackets of a multi-line array or inline table
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if in_string is not None:
            if in_string in line:
                in_string = None
            continue
        if depth > 0:
            depth += line.count("[") + line.count("{") - line.count("]") - line.count("}")
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            parts = _dotted(line[2 : line.find("]]")])
            if parts is not None:
                base = tuple(parts)
                for end in range(1, len(parts)):
                    lines.setdefault(base[:end], number)
                index = counts.get(base, 0)
                counts[base] = index + 1
                table = (*base, index)
                lines.setdefault(base, number)
                lines[table] = number
            continue
        if line.startswith("["):
            parts = _dotted(line[1 : line.find("]")])
            if parts is not None:
                table = tuple(parts)
                for end in range(1, len(parts) + 1):  # [env.staging] also places "env"
                    lines.setdefault(table[:end], number)
            continue
        key, equals, value = line.partition("=")
        parts = _dotted(key) if equals else None
        if parts is None:
            continue
        lines[(*table, *parts)] = number
        value = value.strip()
        for quote in ('"""', "'''"):
            if value.startswith(quote) and value.count(quote) == 1:
                in_string = quote
        if in_string is None and value[:1] in ("[", "{"):
            depth = value.count("[") + value.count("{") - value.count("]") - value.count("}")
    return lines


def _mark(value: Any, path: Path, lines: dict[Path, int], fallback: int) -> Any:
    line = lines.get(path, fallback)
    if isinstance(value, dict):
        marked = MarkedMap(line)
        for key, item in value.items():
            marked[key] = _mark(item, (*path, key), lines, line)
            marked.key_lines[key] = lines.get((*path, key), line)
        return marked
    if isinstance(value, list):
        listed = MarkedList(line)
        for index, item in enumerate(value):
            item_line = lines.get((*path, index), line)
            listed.append(_mark(item, (*path, index), lines, item_line))
            listed.item_lines.append(item_line)
        return listed
    return value


def parse_toml(text: str) -> MarkedMap:
    """Parse TOML into line-marked values; raises ``TomlError`` with the line tomllib reports."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _LINE_AND_COLUMN.search(message)
        line = int(found.group(1)) if found else (text.count("\n") + 1 if "end of document" in message else 1)
        raise TomlError(line, f"invalid TOML: {_LINE_AND_COLUMN.sub('', message)}") from None
    marked: MarkedMap = _mark(document, (), _locate(text), 1)
    return marked
