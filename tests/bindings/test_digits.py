"""bindings.digits: whole numbers typed as text, read strictly and never converted at length."""

from __future__ import annotations

import pytest

from bindings.digits import MAX_LENGTH, length_header, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080", 8080),
        (" 0080 ", 80),  # surrounding white space and leading zeros
        ("0", 0),
        ("65535", 65535),
        ("65536", None),  # out of range
        ("9" * 5000, None),  # more digits than the bound: not converted at all
        ("0" * 5000 + "7", 7),
        ("²", None),  # "²".isdigit() is True, and int("²") raises
        ("٣٠٠٠", None),  # int("٣٠٠٠") is 3000
        ("8_080", None),  # int("8_080") is 8080
        ("+80", None),
        ("-1", None),
        ("", None),
    ],
)
def test_whole_number_takes_ascii_digits_in_range_only(text: str, expected: int | None) -> None:
    assert whole_number(text, 0, 65535) == expected


def test_a_length_header_past_any_body_reads_as_the_largest() -> None:
    assert length_header("1024") == 1024
    assert length_header("9" * 5000) == MAX_LENGTH
    assert length_header("²") is None and length_header("1e3") is None
