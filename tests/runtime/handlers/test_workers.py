from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.responses import Response as StarletteResponse

from bindings.results import ListKey, ListResult
from runtime import Response
from runtime.handlers.workers import (
    MAX_REQUEST_BODY_BYTES,
    HandlerRequest,
    Request as WorkersRequest,
    RequestBodyTooLargeError,
    Response as WorkersResponse,
)


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


@pytest.mark.parametrize("status", [0, 99, 100, 199, 600, 99999])
def test_a_status_outside_200_to_599_is_refused_as_workers_refuses_it(status: int) -> None:
    message = f"Responses may only be constructed with status codes in the range 200 to 599, inclusive (got {status})"
    with pytest.raises(ValueError, match=re.escape(message)):
        Response("x", status=status)


def test_a_header_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Invalid header value for 'x-a': it holds a line break or NUL"):
        Response("x", headers={"x-a": "1\r\nset-cookie: forged=1"})
    with pytest.raises(TypeError, match="line break or NUL"):
        Response.redirect("/next\nx-forged: 1")


def _request(body: bytes, headers: dict[str, str] | None = None, chunk: int = 1 << 20) -> HandlerRequest:
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    raw = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return HandlerRequest({"type": "http", "method": "POST", "path": "/", "headers": raw}, receive)


@pytest.mark.anyio
async def test_text_and_json_decode_bodies_as_fetch_does() -> None:
    body = b'\xef\xbb\xbf{"a": "x\xffy"}'  # a BOM, and a byte that is not UTF-8
    assert await _request(body).text() == '{"a": "x\ufffdy"}'
    assert await _request(body).json() == {"a": "x\ufffdy"}
    assert await WorkersRequest(_request(body)).json() == {"a": "x\ufffdy"}


@pytest.mark.anyio
async def test_a_body_announced_over_100_mib_is_refused_before_it_is_read() -> None:
    request = _request(b"start", {"content-length": str(10 * 1024**3)})
    with pytest.raises(RequestBodyTooLargeError, match="^the request body is 10737418240 bytes or more, over the"):
        await request.body()


@pytest.mark.anyio
async def test_a_body_streaming_past_100_mib_is_refused_at_the_limit() -> None:
    request = _request(b"x" * (MAX_REQUEST_BODY_BYTES + 1), chunk=8 * 1024 * 1024)
    with pytest.raises(RequestBodyTooLargeError) as refused:
        await request.body()
    assert MAX_REQUEST_BODY_BYTES < refused.value.length <= MAX_REQUEST_BODY_BYTES + 8 * 1024 * 1024


def _as_sent(response: Response) -> tuple[Any, ...]:
    return (
        type(response),
        response.status_code,
        response.status_text,
        bytes(response.body),
        response.raw_headers,
        response.url,
        response.background,
        response.media_type,
        response.headers.get("content-type"),
    )


@pytest.mark.parametrize(
    "data",
    [{"v": "valuevalue"}, None, [1, 2.5, True], "é ü 日本", {"s": "\ud800"}, {"nested": {"a": [None, {}]}}, 0],
)
@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 599])
def test_json_without_headers_is_what_the_constructor_builds(data: Any, status: int) -> None:
    # Response.json(data) sets its headers directly; a response built through the constructor, as any
    # call with headers is, must be the same response.
    quick = Response.json(data, status, "Text")
    full = Response.json(data, status, "Text", {"content-type": "application/json"})
    assert _as_sent(quick) == _as_sent(full)
    assert _as_sent(Response.json(data, status_code=status)) == _as_sent(
        Response.json(data, headers=[("Content-Type", "application/json")], status_code=status)
    )


@pytest.mark.parametrize("text", ["", "valuevalue", "é ü 日本", "x" * 70_000])
def test_text_without_options_is_what_starlette_builds(text: str) -> None:
    # Response(text) sets its attributes directly; Starlette's own __init__, given what Workers implies
    # for a str body, must build the same response, and so must a subclass (which goes through it).
    class Sub(Response):
        pass

    quick = Response(text)
    full = Response.__new__(Response)
    full.url, full._stream, full.status_text = "", None, ""
    StarletteResponse.__init__(full, text, 200, None, "text/plain;charset=UTF-8")
    assert _as_sent(quick) == _as_sent(full)
    assert _as_sent(Sub(text))[1:] == _as_sent(quick)[1:]
    assert vars(quick).keys() == vars(full).keys()
    with pytest.raises(UnicodeEncodeError):
        Response("\ud800")


@pytest.mark.anyio
async def test_json_without_headers_reads_back() -> None:
    response = Response.json({"a": [1, "é"]})
    assert await response.json() == {"a": [1, "é"]} and response.ok and response.status == 200
    assert (await response.clone()).raw_headers == response.raw_headers


def test_request_of_the_hosts_request_is_what_the_constructor_builds() -> None:
    scope = {"type": "http", "method": "POST", "path": "/p", "query_string": b"", "headers": [(b"host", b"h")]}
    handler_request = HandlerRequest(scope)
    quick, full = WorkersRequest.of(handler_request), WorkersRequest(handler_request)
    assert type(quick) is type(full)
    assert {slot: getattr(quick, slot) for slot in WorkersRequest.__slots__} == {
        slot: getattr(full, slot) for slot in WorkersRequest.__slots__
    }
    assert quick.url == full.url == "http://h/p" and quick.method == "POST" and quick.headers.get("host") == "h"
