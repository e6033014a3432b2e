"""Blanking hidden values (secrets, API tokens) out of text, in every form text can show them in.

A traceback or a log line rarely holds a secret as it was typed. It holds what code made of it:
``KeyError: 'C:\\\\path'`` (a repr, backslashes doubled), ``b'caf\\xc3\\xa9'`` (a bytes repr),
``"caf\\u00e9"`` (JSON), ``caf%C3%A9`` (a URL), ``&lt;tag&gt;`` (HTML), or one of these inside
another (a repr of JSON, a URL encoded twice). Each of those encodings works character by
character, so ``Redactor`` matches a value whose every character is written in any of the forms
below, or in any one of them applied to another, and replaces the whole run with ``[secret]``:

* the character itself;
* Python's ``repr``/``str`` escapes of str and of UTF-8 bytes, with either quote style, and ``ascii()``;
* JSON escapes, ASCII-escaped (``\\u00e9``, either case) or not, and ``\\/``;
* percent-encoding of the UTF-8 bytes, upper and lower case hex, and ``+`` for a space;
* HTML escapes (``&amp;``, ``&#x27;``, ``&#39;``, ``&quot;``, ``&#34;``...).

Short values: under 4 characters a value is not hidden at all (it would blank letters of every
line, and protects nothing); under 8 it is hidden only where it stands alone, not inside a longer
run of letters and digits (a secret ``root`` blanks ``root`` but leaves ``chroot`` and ``rooted``).
From 8 characters on it is hidden wherever it appears.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MIN_ANYWHERE_LENGTH", "MIN_HIDDEN_LENGTH", "REDACTED", "Redactor", "char_forms"]

REDACTED = "[secret]"
MIN_HIDDEN_LENGTH = 4
MIN_ANYWHERE_LENGTH = 8  # shorter values are hidden only as a whole word

Encoding = Callable[[str], str]  # one character -> how an encoding writes it
_CONTROL_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_RUNS = re.compile(r"(.)\1*", re.DOTALL)
_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _python_str(quote_escaped: bool, ascii_only: bool) -> Encoding:
    # repr() escapes a quote only when the text holds both kinds; a double quote, never.
    def encode(char: str) -> str:
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char == "'":
            return "\\'" if quote_escaped else "'"
        if char.isprintable() and (char.isascii() or not ascii_only):
            return char
        return ascii(char)[1:-1]  # \x07, \xe9, \u200b, \U0001f600

    return encode


def _python_bytes(quote_escaped: bool) -> Encoding:
    def encode(char: str) -> str:
        return "".join(_byte(byte, quote_escaped) for byte in char.encode("utf-8", "surrogatepass"))

    return encode


def _byte(byte: int, quote_escaped: bool) -> str:
    char = chr(byte)
    if char in _CONTROL_ESCAPES:
        return _CONTROL_ESCAPES[char]
    if char == "'":
        return "\\'" if quote_escaped else "'"
    return char if 0x20 <= byte < 0x7F else f"\\x{byte:02x}"


def _json(ascii_only: bool, upper: bool) -> Encoding:
    def encode(char: str) -> str:
        if char in _JSON_ESCAPES:
            return _JSON_ESCAPES[char]
        if ord(char) < 0x20 or (ascii_only and not char.isascii()):
            units = char.encode("utf-16-be", "surrogatepass")
            escaped = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
            return escaped.upper().replace("\\U", "\\u") if upper else escaped
        return char

    return encode


def _percent(upper: bool, plus: bool) -> Encoding:
    def encode(char: str) -> str:
        encoded = (quote_plus if plus else quote)(char, safe="", errors="surrogatepass")
        return encoded if upper else encoded.lower() if encoded.startswith("%") else encoded

    return encode


def _html_numeric(char: str) -> str:
    return f"&#{ord(char)};" if char in "&<>\"'" else char


_ENCODINGS: tuple[Encoding, ...] = (
    lambda char: char,
    _python_str(quote_escaped=True, ascii_only=False),
    _python_str(quote_escaped=False, ascii_only=False),
    _python_str(quote_escaped=True, ascii_only=True),
    _python_bytes(quote_escaped=True),
    _python_bytes(quote_escaped=False),
    _json(ascii_only=True, upper=False),
    _json(ascii_only=True, upper=True),
    _json(ascii_only=False, upper=False),
    lambda char: "\\/" if char == "/" else char,  # JSON as PHP and some others write a slash
    _percent(upper=True, plus=False),
    _percent(upper=False, plus=False),
    _percent(upper=True, plus=True),
    lambda char: html.escape(char, quote=True),
    _html_numeric,
)


def _written(text: str, encoding: Encoding) -> str:
    return "".join(encoding(char) for char in text)


def char_forms(char: str) -> set[str]:
    """Every way ``char`` may be written: by one encoding, or by one encoding applied to another's output."""
    once = {encoding(char) for encoding in _ENCODINGS}
    return {_written(form, encoding) for form in once for encoding in _ENCODINGS}


def _pattern(value: str) -> str:
    pieces = []
    for run in _RUNS.finditer(value):
        # A run of one character is written in one form throughout: a backslash's forms (\\, \\\\,
        # \\\\\\\\) are runs of backslashes themselves, and a pattern that let each character of a run
        # choose its own would try every way of cutting a long run of them, exponentially many.
        char, count = run.group()[0], len(run.group())
        forms = sorted(char_forms(char), key=lambda form: (-len(form), form))
        repeat = "" if count == 1 else f"{{{count}}}"
        alternatives = [f"(?:{re.escape(form)}){repeat}" if repeat else re.escape(form) for form in forms]
        pieces.append(alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})")
    pattern = "".join(pieces)
    if len(value) < MIN_ANYWHERE_LENGTH:
        pattern = rf"(?<![^\W_]){pattern}(?![^\W_])"
    return pattern


class Redactor:
    """A function from text to text with the given values blanked out, in whatever form they appear.

    Values shorter than ``MIN_HIDDEN_LENGTH`` are not hidden (see the module docstring); a Redactor
    with nothing to hide returns text unchanged, and is false.
    """

    __slots__ = ("_regex",)

    def __init__(self, values: Iterable[str]) -> None:
        hidden = sorted({value for value in values if len(value) >= MIN_HIDDEN_LENGTH}, key=lambda v: (-len(v), v))
        self._regex = re.compile("|".join(_pattern(value) for value in hidden)) if hidden else None

    def __call__(self, text: str) -> str:
        return text if self._regex is None else self._regex.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._regex is not None

    def __repr__(self) -> str:
        return "Redactor(...)"  # never the values
