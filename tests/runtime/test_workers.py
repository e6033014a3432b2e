from __future__ import annotations

import pytest

from bindings.results import ListKey, ListResult
from runtime import Response
from runtime.workers import Response as WorkersResponse


def test_runtime_and_workers_response_are_one_class() -> None:
    assert Response is WorkersResponse


def test_cloudflare_style_arguments() -> None:
    response = Response("hi", status=201, headers={"x-a": "1"})
    assert (response.status_code, response.body, response.headers["x-a"]) == (201, b"hi", "1")
    assert response.headers["content-type"] == "text/plain;charset=UTF-8"


@pytest.mark.parametrize("args", [("hé",), ("",), ("x", None, "Fine")], ids=["text", "empty", "status-text"])
def test_a_plain_text_response_is_the_same_on_the_short_path(args: tuple[object, ...]) -> None:
    short, general = Response(*args), Response(*args, headers={})  # headers={} takes the general path
    assert (short.status_code, short.body, short.raw_headers, short.status_text) == (
        general.status_code,
        general.body,
        general.raw_headers,
        general.status_text,
    )
    assert short.headers["content-type"] == "text/plain;charset=UTF-8"


def test_starlette_style_arguments() -> None:
    response = Response(content=b"\x00", status_code=202, media_type="application/octet-stream")
    assert (response.status_code, response.body, response.headers["content-type"]) == (
        202,
        b"\x00",
        "application/octet-stream",
    )


def test_json_serialises_kv_results() -> None:
    page = ListResult([ListKey("a", 10, '{"m":1}')], list_complete=True)
    response = Response.json({"page": page}, status=200, headers={"x": "y"})
    assert (
        response.body == b'{"page":{"keys":[{"name":"a","expiration":10,"metadata":{"m":1}}],"list_complete":true,'
        b'"cacheStatus":null}}'
    )
    assert response.headers["content-type"] == "application/json"


def test_redirect_sets_location_and_checks_status() -> None:
    response = Response.redirect("https://example.com", 301)
    assert (response.status_code, response.headers["location"]) == (301, "https://example.com")
    with pytest.raises(ValueError, match="Invalid status code 200 for a redirect"):
        Response.redirect("/", 200)


def test_a_dict_body_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"Response body must be str or bytes, got dict; use Response.json\(\)"):
        Response({"a": 1})  # type: ignore[arg-type]


def test_json_escapes_a_lone_surrogate_instead_of_failing() -> None:
    assert Response.json({"s": "\ud800"}).body == b'{"s":"\\ud800"}'
