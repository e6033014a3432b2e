"""The catalog's rules, which every engine applies: ids, titles, the namespace limit, and their texts."""

from __future__ import annotations

import re

import pytest

from bindings import StorageError
from bindings.catalog import (
    MAX_NAMESPACES,
    MAX_TITLE_LENGTH,
    check_namespace_count,
    check_namespace_id,
    check_title,
    duplicate_id,
    duplicate_title,
    is_namespace_id,
    new_namespace_id,
)
from bindings.errors import NamespaceLimitError, NamespaceTitleError


def test_new_ids_are_32_lowercase_hex_digits_and_fresh() -> None:
    ids = {new_namespace_id() for _ in range(100)}
    assert len(ids) == 100 and all(is_namespace_id(namespace_id) for namespace_id in ids)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0f2ac74b498b48028cb68387c421e279", True),
        ("0" * 32, True),
        ("0F2AC74B498B48028CB68387C421E279", False),
        ("0f2ac74b498b48028cb68387c421e27", False),
        ("0f2ac74b498b48028cb68387c421e2790", False),
        ("0f2ac74b-498b-4802-8cb6-8387c421e279", False),
        ("../../etc/passwd", False),
        ("0f2ac74b498b48028cb68387c421e27\n", False),
        ("", False),
        (None, False),
        (12, False),
    ],
)
def test_an_id_is_exactly_32_lowercase_hex_digits(value: object, valid: bool) -> None:
    assert is_namespace_id(value) is valid
    if valid:
        assert check_namespace_id(value) == value
    else:
        message = f"namespace id must be 32 lowercase hex digits, got {value!r}"
        with pytest.raises(StorageError, match=f"^{re.escape(message)}$"):
            check_namespace_id(value)


@pytest.mark.parametrize("title", ["", "  \t", None, 3])
def test_a_missing_title_has_cloudflares_text(title: object) -> None:
    with pytest.raises(NamespaceTitleError, match="^request is missing a title definition$") as caught:
        check_title(title)
    assert caught.value.missing and not caught.value.duplicate


def test_a_title_is_at_most_512_characters() -> None:
    assert check_title("é" * MAX_TITLE_LENGTH) == "é" * 512
    with pytest.raises(NamespaceTitleError, match="^title must be at most 512 characters, got 513$") as caught:
        check_title("t" * 513)
    assert not caught.value.missing and not caught.value.duplicate


def test_an_account_holds_at_most_1000_namespaces() -> None:
    check_namespace_count(MAX_NAMESPACES - 1)
    with pytest.raises(NamespaceLimitError, match="^an account may have at most 1000 namespaces$"):
        check_namespace_count(MAX_NAMESPACES)


def test_the_duplicate_errors() -> None:
    error = duplicate_title()
    assert str(error) == "a namespace with this account ID and title already exists" and error.duplicate
    assert str(duplicate_id("0" * 32)) == f"a namespace with id {'0' * 32} already exists"
