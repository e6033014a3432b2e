"""The JSON encoder built once gives json's own bytes and json's own errors, and JSONResponse uses it."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from starlette.responses import JSONResponse

import runtime.handlers.loader  # noqa: F401  (installs the faster render, as loading a script does)
from runtime.handlers.jsonencode import STARLETTE_RENDER, compact_encoder

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.sampled_from(["\ud800", "é", "\x00", "日本"])
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), st.booleans(), st.none()), inner, max_size=4),
    ),
    max_leaves=12,
)


def _outcome(function: Any, value: Any) -> Any:
    try:
        return ("value", function(value))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def _response(value: Any) -> Any:
    return JSONResponse(value).body


def _starlettes(value: Any) -> Any:
    return STARLETTE_RENDER(JSONResponse.__new__(JSONResponse), value)


@settings(max_examples=500, deadline=None)
@given(values)
def test_json_responses_are_starlettes_own_bytes_and_errors(value: Any) -> None:
    assert _outcome(_response, value) == _outcome(_starlettes, value)


@settings(max_examples=300, deadline=None)
@given(values)
def test_the_compact_encoder_equals_jsons(value: Any) -> None:
    slow = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=repr)
    assert _outcome(compact_encoder(repr), value) == _outcome(slow.encode, value)


def test_json_errors_are_jsons_own() -> None:
    circular: list[Any] = []
    circular.append(circular)
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    for value in (
        circular,
        {"a": circular},
        float("nan"),
        {"x": float("inf")},
        object(),
        {"s": {1, 2}},
        deep,
        "\udc80",
    ):
        assert _outcome(_response, value) == _outcome(_starlettes, value)
        assert _outcome(_response, value)[0] == "raised"
    assert JSONResponse({"after": "errors"}).body == b'{"after":"errors"}'  # nothing left over from them


def test_jsonresponse_uses_it_and_a_subclass_render_still_wins() -> None:
    assert JSONResponse.render is not STARLETTE_RENDER

    class Pretty(JSONResponse):
        def render(self, content: Any) -> bytes:
            return json.dumps(content, indent=1).encode()

    assert Pretty({"a": 1}).body == b'{\n "a": 1\n}'
    assert JSONResponse({"a": 1}, status_code=201).headers["content-length"] == "7"


def test_threads_encode_at_once_without_false_circular_errors() -> None:
    shared = {"list": [{"n": number, "nested": [number] * 5} for number in range(200)]}
    expected = _starlettes(shared)
    failures: list[BaseException] = []

    def encode_many() -> None:
        try:
            for _ in range(200):
                assert JSONResponse(shared).body == expected
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=encode_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("value", [{"v": "valuevalue"}, [1, 2.5, None], "text", 0])
def test_plain_values(value: Any) -> None:
    assert JSONResponse(value).body == _starlettes(value)
