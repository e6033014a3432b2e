"""Whole numbers written as text (a port, a page count, a ``Content-Length``), read strictly.

Python's own readers accept more than a person types as a number, and fail on some of it:
``"²".isdigit()`` is True but ``int("²")`` raises; ``int("٣")`` is 3 and ``int("1_0")`` is 10; and
``int()`` of more than 4,300 digits raises ``ValueError`` (Python's int-conversion digit limit).
``whole_number`` takes ASCII digits only and compares their count with the bound before converting
them, so no input, however long, costs more than a glance or ends in an exception.
"""

from __future__ import annotations

import re

__all__ = ["ASCII_DIGITS", "MAX_LENGTH", "length_header", "whole_number"]

ASCII_DIGITS = re.compile(r"[0-9]+")
MAX_LENGTH = 2**63 - 1  # HTTP servers refuse a longer Content-Length; any body is shorter


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` (surrounding whitespace aside) as a whole number from ``low`` to ``high``; None if it is not one.

    Only the ASCII digits 0-9 count: no sign, no underscores, no other scripts' digits.
    """
    text = text.strip()
    if not ASCII_DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(high)):
        return None  # more digits than the bound: out of range, whatever they are
    value = int(significant)
    return value if low <= value <= high else None


def length_header(text: str) -> int | None:
    """A ``Content-Length`` value as a number of bytes; None if it is not ASCII digits.

    A length past ``MAX_LENGTH`` reads as ``MAX_LENGTH``: the body is at least that long, which is all
    a limit needs to know.
    """
    text = text.strip()
    if not ASCII_DIGITS.fullmatch(text):
        return None
    value = whole_number(text, 0, MAX_LENGTH)
    return MAX_LENGTH if value is None else value
