"""What JavaScript makes of values, where KV's formats follow it: ``String(n)`` and ``JSON.parse``.

workerd turns a number put as a value into text with ``String(n)``, and wrangler sends a bulk
file's numbers as ``String(n)`` too. Metadata and request bodies are parsed as ``JSON.parse``
would: Python's ``json`` also accepts ``NaN`` and ``Infinity``, which are not JSON.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, NoReturn

__all__ = ["js_string", "parse_json", "parse_json_int", "reject_json_constant"]


def js_string(value: int | float) -> str:
    """``String(n)``: JavaScript's text for a number (ECMA-262 ``Number::toString``).

    A Python int reaches JavaScript as a Number or, past 2**53, a BigInt; either prints as its digits.
    A float prints with its shortest round-trip digits (as Python's ``repr``), laid out as JavaScript
    lays them out: ``1e21`` and up and below ``1e-6`` with an exponent, ``1e-7`` not ``1e-07``.
    """
    if not isinstance(value, float):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # -0 too
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()  # abs(value) = digits × 10**exponent
    assert isinstance(exponent, int)  # it is a letter only for NaN and Infinity, handled above
    digits = "".join(map(str, digit_tuple))
    return ("-" if value < 0 else "") + _layout(digits.rstrip("0"), len(digits) + exponent)


def _layout(digits: str, point: int) -> str:
    # ``point``: where the decimal point goes, counted from the first digit (ECMA-262's n).
    count = len(digits)
    if count <= point <= 21:
        return digits + "0" * (point - count)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return f"0.{'0' * -point}{digits}"
    mantissa = digits if count == 1 else f"{digits[0]}.{digits[1:]}"
    return f"{mantissa}e{'+' if point - 1 >= 0 else '-'}{abs(point - 1)}"


def reject_json_constant(name: str) -> NoReturn:
    """For ``json.loads(parse_constant=...)``: JSON has no ``NaN`` or ``Infinity``; raises ValueError."""
    raise ValueError(f"{name} is not valid JSON")


def parse_json_int(digits: str) -> int | float:
    """For ``json.loads(parse_int=...)``: an integer literal, exact where Python can convert it.

    ``JSON.parse`` reads every number as a double, so a literal of thousands of digits is a huge one
    (Infinity). Python's ``int()`` refuses more than 4,300 digits; such a literal becomes the double.
    """
    try:
        return int(digits)
    except ValueError:
        return float(digits)  # float() has no digit limit: it gives inf past about 1.8e308


def parse_json(text: str | bytes | bytearray) -> Any:
    """``JSON.parse``: Python's ``json.loads`` without ``NaN`` and ``Infinity``, and with numbers of any length.

    Raises ValueError for text that is not JSON, and RecursionError for arrays nested too deeply.
    """
    return json.loads(text, parse_constant=reject_json_constant, parse_int=parse_json_int)
