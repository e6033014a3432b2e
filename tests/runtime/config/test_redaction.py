"""Redactor: hidden values blanked in every form text shows them in, and short values kept in bounds."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from runtime.config.redaction import Redactor, char_forms
from runtime.config.secrets import redactor

VALUE = "C:\\new\\dir 'q'\tkéy<&>%/+😀 \"ok\""

FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "repr": repr,
    "str of KeyError": lambda v: str(KeyError(v)),
    "repr of repr": lambda v: repr(repr(v)),
    "ascii": ascii,
    "bytes repr": lambda v: repr(v.encode()),
    "bytes repr of latin text": lambda v: repr(v.replace("😀", "").encode("utf-8")),
    "json": json.dumps,
    "json, not ASCII-escaped": lambda v: json.dumps(v, ensure_ascii=False),
    "json of json": lambda v: json.dumps(json.dumps(v)),
    "quote": quote,
    "quote, nothing safe": lambda v: quote(v, safe=""),
    "quote_plus": quote_plus,
    "quote, lower-case hex": lambda v: "".join(
        part.lower() if part.startswith("%") else part for part in _percent_parts(quote(v, safe=""))
    ),
    "quote twice": lambda v: quote(quote(v, safe=""), safe=""),
    "html": html.escape,
    "html of repr": lambda v: html.escape(repr(v)),
    "repr of json": lambda v: repr(json.dumps(v)),
}


def _percent_parts(text: str) -> list[str]:
    parts, i = [], 0
    while i < len(text):
        step = 3 if text[i] == "%" else 1
        parts.append(text[i : i + step])
        i += step
    return parts


@pytest.mark.parametrize("form", list(FORMS))
def test_a_value_is_blanked_in_every_form_text_shows_it_in(form: str) -> None:
    value = VALUE.replace("😀", "") if "latin" in form else VALUE
    shown = FORMS[form](value)
    assert shown != value or form == "raw"
    redacted = Redactor([value])(f"before {shown} after")
    assert redacted.startswith("before ") and redacted.endswith(" after")
    assert "[secret]" in redacted and "dir" not in redacted and "k" not in redacted.replace("[secret]", "")


def test_each_character_may_be_written_its_own_way() -> None:
    # One encoder leaves "/" alone and percent-encodes "é"; another escapes "/" too.
    blank = Redactor(["a/b-é-value"])
    assert blank("x a/b-%C3%A9-value y") == "x [secret] y"
    assert blank("x a%2Fb-\\u00e9-value y") == "x [secret] y"


def test_a_backslash_is_matched_however_often_it_was_doubled() -> None:
    blank = Redactor(["back\\slash\\\\twice"])
    for shown in ("back\\slash\\\\twice", "back\\\\slash\\\\\\\\twice", "back\\\\\\\\slash\\\\\\\\\\\\\\\\twice"):
        assert blank(f"<{shown}>") == "<[secret]>"


def test_forms_of_a_character_include_escapes_of_escapes() -> None:
    expected = {"é", "\\xe9", "\\u00e9", "\\u00E9", "\\xc3\\xa9", "%C3%A9", "%c3%a9", "\\\\u00e9", "%25C3%25A9"}
    assert expected <= char_forms("é")
    assert char_forms("a") == {"a"}  # nothing writes a plain letter any other way


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("abc", "abc and abcdef", "abc and abcdef"),  # under 4 characters: not hidden at all
        ("root", "root chroot rooted 'root' /root/x", "[secret] chroot rooted '[secret]' /[secret]/x"),
        ("p@ss!", "p@ss! p@ss!word p%40ss%21", "[secret] p@ss!word [secret]"),  # a whole word, in any form
        ("longer-secret", "xlonger-secretx", "x[secret]x"),  # from 8 characters: anywhere
    ],
)
def test_short_values_are_blanked_only_where_they_stand_alone(value: str, text: str, expected: str) -> None:
    assert Redactor([value])(text) == expected


def test_the_longest_value_wins_where_values_overlap() -> None:
    assert Redactor(["token-1234", "token-1234-extended"])("a token-1234-extended b") == "a [secret] b"


def test_nothing_to_hide_leaves_text_alone_and_says_so() -> None:
    assert redactor(["", "ab"]) is None
    blank = Redactor([])
    assert not blank and blank("anything") == "anything"
    assert "hunter22" not in repr(Redactor(["hunter22"]))
