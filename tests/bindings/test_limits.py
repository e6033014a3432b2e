"""The pure checks in bindings.limits: coercion, parsing, and each message (README, "The KV binding")."""

from __future__ import annotations

import math
import re

import pytest

from bindings.errors import KVError, KVTypeError
from bindings.limits import (
    check_bulk_count,
    check_bulk_type,
    check_cache_ttl,
    check_int32_text,
    check_key,
    check_key_name,
    check_list_limit,
    check_metadata,
    check_metadata_size,
    check_prefix,
    check_value_size,
    encode_metadata,
    parse_int,
    resolve_expiration,
    to_int32,
)

OUT_OF_RANGE = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(123, 123, id="int"),
        pytest.param(123.9, 123, id="fraction-truncated"),
        pytest.param(-123.9, -123, id="negative-fraction-truncated"),
        pytest.param("60", 60, id="numeric-string"),
        pytest.param(" 60 ", 60, id="padded-string"),
        pytest.param("1e2", 100, id="exponent-string"),
        pytest.param("0x10", 16, id="hex-string"),
        pytest.param("nan", 0, id="non-numeric-string"),
        pytest.param("", 0, id="empty-string"),
        pytest.param(math.nan, 0, id="nan"),
        pytest.param(math.inf, 0, id="infinity"),
        pytest.param(True, 1, id="true"),
        pytest.param({}, 0, id="object"),
        pytest.param(2147483647, 2147483647, id="int32-max"),
        pytest.param(-2147483648, -2147483648, id="int32-min"),
    ],
)
def test_to_int32_coerces_like_workerd(given: object, expected: int) -> None:
    assert to_int32(given) == expected


@pytest.mark.parametrize("given", [2147483648, -2147483649, 1e12, "3000000000"])
def test_to_int32_refuses_values_outside_int32(given: object) -> None:
    with pytest.raises(KVTypeError) as caught:
        to_int32(given)
    assert str(caught.value) == OUT_OF_RANGE
    assert isinstance(caught.value, TypeError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("60", 60), ("  60abc", 60), ("-5", -5), ("0x1A", 26), ("abc", None), ("", None), ("1.9", 1)],
)
def test_parse_int_follows_javascript_parseint(raw: str, expected: int | None) -> None:
    assert parse_int(raw) == expected


def test_key_name_checks_are_type_errors_without_prefix() -> None:
    for key, message in [
        ("", "Key name cannot be empty."),
        (".", '"." is not allowed as a key name.'),
        ("..", '".." is not allowed as a key name.'),
    ]:
        with pytest.raises(KVTypeError) as caught:
            check_key_name(key)
        assert str(caught.value.for_op("PUT")) == message


def test_key_name_of_513_bytes_is_a_414() -> None:
    assert check_key_name("x" * 512) == b"x" * 512
    with pytest.raises(KVError) as caught:
        check_key_name("x" * 513)
    assert caught.value.status == 414
    assert str(caught.value.for_op("DELETE")) == (
        "KV DELETE failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    )


def test_key_length_counts_utf8_bytes_not_characters() -> None:
    assert len(check_key_name("é" * 256)) == 512
    with pytest.raises(KVError, match="UTF-8 encoded length of 513 exceeds"):
        check_key_name("é" * 256 + "x")


def test_server_key_checks_use_the_services_messages() -> None:
    with pytest.raises(KVError, match="^Key names must not be empty$"):
        check_key("")
    with pytest.raises(KVError, match=r'^Illegal key name "\.\.". Please use a different name\.$'):
        check_key("..")
    with pytest.raises(KVError) as caught:
        check_key("\ud800")
    assert (caught.value.status, caught.value.message) == (400, "Could not URL-decode key name")


def test_prefix_is_held_to_the_key_length_limit() -> None:
    assert check_prefix("p" * 512) == b"p" * 512
    with pytest.raises(KVError, match="UTF-8 encoded length of 513"):
        check_prefix("p" * 513)


def test_cache_ttl_minimum_is_30() -> None:
    check_cache_ttl(30)
    with pytest.raises(KVError, match=r"^Invalid cache_ttl of 29\. Cache TTL must be at least 30\.$"):
        check_cache_ttl(29)


@pytest.mark.parametrize(
    ("expiration", "ttl", "message"),
    [
        (None, "nan", "Invalid expiration_ttl of nan. Please specify integer greater than 0."),
        (None, "0", "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        (None, "59", "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
        (
            "nan",
            None,
            "Invalid expiration of nan. Please specify integer greater than the current number of "
            "seconds since the UNIX epoch.",
        ),
        (
            "1000",
            None,
            "Invalid expiration of 1000. Please specify integer greater than the current number of "
            "seconds since the UNIX epoch.",
        ),
        ("1059", None, "Invalid expiration of 1059. Expiration times must be at least 60 seconds in the future."),
    ],
)
def test_expiration_checks(expiration: str | None, ttl: str | None, message: str) -> None:
    with pytest.raises(KVError) as caught:
        resolve_expiration(1000, expiration, ttl)
    assert (caught.value.status, caught.value.message) == (400, message)


def test_expiration_boundaries_and_ttl_precedence() -> None:
    assert resolve_expiration(1000, None, "60") == 1060
    assert resolve_expiration(1000, "1060", None) == 1060
    assert resolve_expiration(1000, "1", "60") == 1060  # the TTL wins; the bad expiration is not even checked
    assert resolve_expiration(1000, None, None) is None


def test_metadata_size_is_its_json_length_in_bytes() -> None:
    exactly = encode_metadata({"key": "x" * (1024 - len('{"key":""}'))})
    assert exactly is not None and len(exactly) == 1024
    check_metadata_size(exactly)
    with pytest.raises(KVError) as caught:
        check_metadata_size(exactly[:-2] + 'x"}')  # one byte longer
    assert (caught.value.status, caught.value.message) == (413, "Metadata length of 1025 exceeds limit of 1024.")


def test_metadata_from_the_wire_must_be_json() -> None:
    assert check_metadata('{ "a" : 1 }') == '{"a":1}'
    assert check_metadata("null") is None
    with pytest.raises(KVError, match="^metadata must be valid json$"):
        check_metadata("{nope")
    with pytest.raises(KVError, match="^metadata must be valid json$"):
        check_metadata("NaN")


def test_encode_metadata_matches_json_stringify() -> None:
    assert encode_metadata({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert encode_metadata(0) == "0"
    assert encode_metadata(None) is None
    with pytest.raises(KVTypeError, match="JSON-serialisable"):
        encode_metadata({"a": object()})


def test_value_size_limit_is_25_mib() -> None:
    check_value_size(26_214_400)
    with pytest.raises(KVError) as caught:
        check_value_size(26_214_401)
    assert (caught.value.status, caught.value.message) == (413, "Value length of 26214401 exceeds limit of 26214400.")


def test_list_limit_checks() -> None:
    check_list_limit(1)
    check_list_limit(1000)
    with pytest.raises(KVError, match=r"^Invalid key_count_limit of 0\. Please specify an integer greater than 0\.$"):
        check_list_limit(0)
    with pytest.raises(KVError, match=r"^Invalid key_count_limit of abc\. Please specify an integer greater than 0\.$"):
        check_list_limit(None, raw="abc")
    with pytest.raises(
        KVError, match=r"^Invalid key_count_limit of 1001\. Please specify an integer less than 1000\.$"
    ):
        check_list_limit(1001)


def test_bulk_checks() -> None:
    assert check_bulk_type(None) == "text"
    assert check_bulk_type("json") == "json"
    with pytest.raises(KVError, match='^"arrayBuffer" is not a valid type. Use "json" or "text"$'):
        check_bulk_type("arrayBuffer")
    check_bulk_count(1)
    check_bulk_count(100)
    with pytest.raises(KVError, match="^You can request a maximum of 100 keys$"):
        check_bulk_count(101)
    with pytest.raises(KVError, match="^You must request a minimum of 1 key$"):
        check_bulk_count(0)


def test_expirations_beyond_safe_integers_are_refused() -> None:
    with pytest.raises(KVError, match=r"^Invalid expiration of 9{30}\. Please specify integer less than"):
        resolve_expiration(1000, "9" * 30, None)
    with pytest.raises(KVError) as caught:
        resolve_expiration(1000, None, "100000000000000000000")
    assert caught.value.message == (
        "Invalid expiration_ttl of 100000000000000000000. Please specify integer less than 9007199254740992."
    )
    assert resolve_expiration(0, None, str(2**53 - 1)) == 2**53 - 1


def test_metadata_with_a_lone_surrogate_is_escaped_as_json_stringify_does() -> None:
    assert encode_metadata({"s": "\ud800"}) == '{"s":"\\ud800"}'
    assert check_metadata('{"s": "\\ud800"}') == '{"s":"\\ud800"}'


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9" * 19, 9_999_999_999_999_999_999),  # exact up to 19 digits
        ("1" + "0" * 30, 1e30),  # then the double JavaScript makes of it
        ("9" * 5000, math.inf),  # past Python's 4,300-digit limit, and past the largest double
        ("-" + "9" * 5000, -math.inf),
        ("0x" + "f" * 400, math.inf),
        ("\u00a0\ufeff 42", 42),  # JavaScript's white space, U+FEFF included
        ("\x1c42", None),  # Python's str.strip() takes \x1c; JavaScript does not
        ("٣٠", None),  # JavaScript reads only ASCII digits
        ("²", None),
        ("1_000", 1),  # parseInt stops at the underscore
    ],
)
def test_parse_int_reads_numbers_of_any_length_as_javascript_does(raw: str, expected: float | None) -> None:
    assert parse_int(raw) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0x" + "f" * 300, 0),  # Number() is Infinity past the largest double, and Infinity reads as 0
        ("0b" + "1" * 2000, 0),
        ("9" * 5000, 0),
        ("٦٠", 0),  # NaN: not JavaScript's digits
        ("0x1_0", 0),  # NaN: JavaScript takes no underscores
        ("1_0", 0),
        ("\ufeff60\u3000", 60),
        ("-0x10", 0),  # NaN: a sign does not go with a hex literal
    ],
)
def test_number_options_read_only_javascripts_numerals(given: str, expected: int) -> None:
    assert to_int32(given) == expected


def test_huge_numbers_are_refused_as_out_of_range_not_converted() -> None:
    for raw in ("9" * 5000, "-" + "9" * 5000, "0x" + "f" * 5000):
        with pytest.raises(KVTypeError, match=f"^{re.escape(OUT_OF_RANGE)}$"):
            check_int32_text(raw)
    check_int32_text("not a number")  # the service's own check refuses that, with its own message
    with pytest.raises(KVTypeError):
        to_int32(10**5000)
    with pytest.raises(KVError, match="^Invalid expiration_ttl of 9{5000}. Please specify integer less than"):
        resolve_expiration(1000, None, "9" * 5000)


def test_metadata_holding_a_number_json_cannot_write_back_is_not_json() -> None:
    for text in ('{"n": 1e400}', '{"n": ' + "9" * 5000 + "}"):
        with pytest.raises(KVError) as caught:
            check_metadata(text[:1024] if len(text) > 1024 else text)
        assert (caught.value.status, caught.value.code) == (400, 10147)
