"""JSON with comments, as wrangler reads ``wrangler.jsonc`` and ``wrangler.json``: line-marked values.

``//`` and ``/* */`` comments and trailing commas are allowed, as in wrangler. Objects load as
``MarkedMap`` and arrays as ``MarkedList`` (``yamlmarks``), so config errors name the line of
the key they are about. A key given twice keeps its last value, as ``JSON.parse`` does.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from .yamlmarks import MarkedList, MarkedMap

__all__ = ["JsoncError", "parse_jsonc"]

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_MAX_DEPTH = 200


class JsoncError(Exception):
    """The text is not valid JSONC; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.starts = [0] + [match.end() for match in re.finditer("\n", text)]

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_right(self.starts, self.pos if pos is None else pos)

    def fail(self, message: str, pos: int | None = None) -> JsoncError:
        return JsoncError(self.line(pos), message)

    def skip(self) -> None:
        text, length = self.text, len(self.text)
        while self.pos < length:
            char = text[self.pos]
            if char in " \t\r\n\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = length if end < 0 else end + 1
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("a /* comment is never closed")
                self.pos = end + 2
            else:
                return

    def document(self) -> Any:
        self.skip()
        if self.pos >= len(self.text):
            return None
        value = self.value(0)
        self.skip()
        if self.pos < len(self.text):
            raise self.fail(f"unexpected {self.text[self.pos]!r} after the end of the document")
        return value

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail("nested too deeply")
        self.skip()
        if self.pos >= len(self.text):
            raise self.fail("the document ends where a value was expected")
        char = self.text[self.pos]
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char == '"':
            return self.string()
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return literal
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail(
                f"unexpected {char!r}; expected a value (a string, number, object, array, true, false or null)"
            )
        self.pos = match.end()
        number = match.group()
        return float(number) if any(c in number for c in ".eE") else int(number)

    def string(self) -> str:
        start = self.pos
        try:
            value, self.pos = json.decoder.scanstring(self.text, self.pos + 1)  # type: ignore[attr-defined]
        except json.JSONDecodeError as exc:
            raise self.fail(f"invalid string: {exc.msg}", exc.pos) from None
        if "\n" in self.text[start : self.pos]:
            raise self.fail("a string may not span lines", start)
        return str(value)

    def object(self, depth: int) -> MarkedMap:
        result = MarkedMap(self.line())
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return result
            if not self.text.startswith('"', self.pos):
                raise self.fail("expected a quoted key or }")
            line = self.line()
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.fail(f'expected ":" after the key "{key}"')
            self.pos += 1
            result[key] = self.value(depth + 1)
            result.key_lines[key] = line
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("}", self.pos):
                raise self.fail('expected "," or "}" after a value in an object')

    def array(self, depth: int) -> MarkedList:
        result = MarkedList(self.line())
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return result
            result.item_lines.append(self.line())
            result.append(self.value(depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                raise self.fail('expected "," or "]" after a value in an array')


def parse_jsonc(text: str) -> Any:
    """Parse JSONC text into line-marked values; raises ``JsoncError``."""
    return _Parser(text).document()
