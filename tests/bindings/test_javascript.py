"""JavaScript's text forms of values: String(n) and JSON.parse, as KV's formats use them."""

from __future__ import annotations

import math

import pytest

from bindings.javascript import js_string, parse_json


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (12, "12"),
        (-7, "-7"),
        (2**70, "1180591620717411303424"),  # a BigInt in JavaScript: its digits
        (0.0, "0"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (-1.5, "-1.5"),
        (2.0, "2"),
        (100.0, "100"),
        (0.1, "0.1"),
        (1e16, "10000000000000000"),
        (1.2345678901234568e20, "123456789012345680000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (0.000001, "0.000001"),
        (0.00001, "0.00001"),  # Python's repr: 1e-05
        (1e-7, "1e-7"),  # Python's repr: 1e-07
        (2.5e-7, "2.5e-7"),
        (5e-324, "5e-324"),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
    ],
)
def test_js_string_is_javascripts_string_of_a_number(number: int | float, text: str) -> None:
    assert js_string(number) == text


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_parse_json_refuses_what_json_parse_refuses(constant: str) -> None:
    with pytest.raises(ValueError, match=f"^{constant} is not valid JSON$"):
        parse_json(f'{{"a": {constant}}}')


def test_parse_json_reads_json() -> None:
    assert parse_json(b'{"a": [1, 2.5, null, true, "\\u00e9"]}') == {"a": [1, 2.5, None, True, "é"]}
