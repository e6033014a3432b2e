"""wrangler's bulk formats, item by item: what each item becomes in the KV service's wire form."""

from __future__ import annotations

import math

import pytest

from bindings.bulk_format import BulkItemError, key_name, pair
from bindings.service import BulkWrite


def test_a_pair_becomes_its_wire_form() -> None:
    item = {"key": "k", "value": "aGk=", "base64": True, "expiration": 2e9, "expiration_ttl": 60, "metadata": {"m": 1}}
    assert pair(0, item) == BulkWrite("k", b"hi", "2000000000", "60", '{"m":1}')


@pytest.mark.parametrize(("number", "text"), [(1e-7, "1e-7"), (math.inf, "Infinity"), (math.nan, "NaN")])
def test_numbers_are_sent_as_javascripts_string_of_them(number: float, text: str) -> None:
    # As wrangler sends them (String(n)); Python's str() gave 1e-07, inf and nan.
    assert pair(0, {"key": "k", "value": "v", "expiration_ttl": number}).expiration_ttl == text


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"key": "k", "value": "v", "expiration": "soon"}, '"expiration" must be a number'),
        ({"key": "k", "value": "v", "expiration_ttl": 2**31}, '"expiration_ttl": Value out of range.'),
        ({"key": 1, "value": "v"}, '"key" must be a string'),
    ],
)
def test_a_malformed_pair_names_the_problem(item: dict[str, object], problem: str) -> None:
    with pytest.raises(BulkItemError) as caught:
        pair(3, item)
    assert caught.value.index == 3 and caught.value.problem.startswith(problem)


def test_a_key_name_is_a_string_or_an_object_with_a_name() -> None:
    assert key_name(0, "k") == key_name(0, {"name": "k"}) == "k"
    with pytest.raises(BulkItemError, match="^item 1: each item must be a key name"):
        key_name(1, {"key": "k"})
