"""``request.url`` of handler requests is exactly Starlette's URL, for ordinary and odd requests alike."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st
from starlette.datastructures import URL, Headers, QueryParams

from runtime.handlers import requesturl
from runtime.handlers.requesturl import request_query_params, request_url, request_url_text
from runtime.handlers.workers import HandlerRequest, Request

paths = st.one_of(
    st.sampled_from(["/", "/read", "/a/b/", "//double", "", "no-slash", "/é/ü", "/a b", "/%3F", "/q?x", "/h#f"]),
    st.text(alphabet="/ab?#\\\t\r\n é%;:@=&+", max_size=12),
)
hosts = st.one_of(
    st.none(),
    st.sampled_from(
        ["127.0.0.1:8787", "localhost", "example.test", "a.b:99999", "x:000080", "[::1]:8787", "Ex-Ample.TEST:80"]
    ),
    st.text(alphabet="ab.-:[]@_0123456789", max_size=10),
)
queries = st.one_of(
    st.sampled_from([b"", b"a=1", b"a=1&b=%20", b"x#y", b"\xc3\xa9=1", b"t=\t"]),
    st.binary(max_size=6).filter(lambda raw: _decodes(raw)),
)


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def _scope(path: str, host: str | None, query: bytes, scheme: str = "http") -> dict[str, Any]:
    headers = [(b"user-agent", b"test")]
    if host is not None:
        headers.insert(0, (b"host", host.encode("latin-1")))
    return {
        "type": "http",
        "scheme": scheme,
        "server": ("127.0.0.1", 8787),
        "path": path,
        "query_string": query,
        "headers": headers,
        "method": "GET",
    }


def _same(ours: URL, theirs: URL) -> None:
    assert str(ours) == str(theirs)
    try:
        expected = theirs.components
    except ValueError as exc:  # urlsplit refuses some hosts: ours must refuse them the same way
        try:
            _ = ours.components
        except ValueError as ours_exc:
            assert str(ours_exc) == str(exc)
            return
        raise AssertionError(f"{theirs} does not split, but ours did") from None
    assert ours.components == expected
    assert (ours.path, ours.query, ours.netloc, ours.scheme, ours.port) == (
        theirs.path,
        theirs.query,
        theirs.netloc,
        theirs.scheme,
        theirs.port,
    )


@settings(max_examples=400, deadline=None)
@given(paths, hosts, queries, st.sampled_from(["http", "https", "HTTP"]))
def test_request_url_equals_starlettes(path: str, host: str | None, query: bytes, scheme: str) -> None:
    scope = _scope(path, host, query, scheme)
    try:
        theirs = URL(scope=scope)
    except Exception as exc:  # e.g. an unknown scheme with no Host header: ours fails alike
        try:
            request_url(scope)
        except Exception as ours_exc:
            assert (type(ours_exc), str(ours_exc)) == (type(exc), str(exc))
            return
        raise AssertionError(f"Starlette raised {exc!r}, ours did not") from None
    _same(request_url(scope), theirs)
    assert request_url_text(scope) == str(theirs)
    assert Request(HandlerRequest(scope)).url == str(theirs)  # what a WorkerEntrypoint's request.url is


def test_an_ordinary_request_url_is_built_without_parsing() -> None:
    url = request_url(_scope("/read", "127.0.0.1:8787", b"a=1"))
    assert str(url) == "http://127.0.0.1:8787/read?a=1"
    assert url.path == "/read" and url.query == "a=1" and url.port == 8787
    assert url.replace(path="/other") == URL("http://127.0.0.1:8787/other?a=1")


def test_handler_requests_use_it_and_keep_it() -> None:
    request = HandlerRequest(_scope("/x", "example.test", b""))
    assert request.url is request.url
    assert str(request.url) == "http://example.test/x"


def test_a_url_seen_again_is_looked_up_and_equals_starlettes() -> None:
    scope = _scope("/kept", "example.test:8080", b"k=1")
    first, second = request_url(scope), request_url(dict(scope))
    assert first is not second  # each request its own URL, sharing only the immutable parts
    _same(second, URL(scope=scope))
    assert request_url_text(scope) == "http://example.test:8080/kept?k=1"
    # An odd URL is remembered as one for Starlette to build, and still comes out as Starlette's.
    odd = _scope("/a?b", "example.test", b"")
    request_url(odd)
    _same(request_url(odd), URL(scope=odd))
    # The same path under another Host, scheme or query is another URL.
    for other in (
        _scope("/kept", "other.test", b"k=1"),
        {**scope, "scheme": "https"},
        _scope("/kept", "example.test:8080", b""),
    ):
        _same(request_url(other), URL(scope=other))


def test_only_short_urls_are_kept_and_the_kept_ones_are_bounded() -> None:
    long_path = "/" + "x" * requesturl._URL_KEPT_CHARS
    request_url(_scope(long_path, "example.test", b""))
    assert not any(key[2] == long_path for key in requesturl._URLS)
    for number in range(requesturl._URLS_KEPT * 3):
        request_url(_scope(f"/n/{number}", "example.test", b""))
        assert len(requesturl._URLS) <= requesturl._URLS_KEPT


# --- request.query_params -------------------------------------------------------------------------

TRICKY_QUERIES = [
    b"",
    b"k=hot",
    b"a=1&a=2&b=3",  # a repeated name: the last wins in the mapping, all are in the list
    b"a=&b",  # a blank value, a name with no "="
    b"&&a=1&&",  # empty fields
    b"=x&=",  # an empty name
    b"a=b=c",  # only the first "=" splits
    b"a=%20b&%3D=%26",  # %-escapes
    b"a+b=c+d",  # + is a space
    b"a=1;b=2",  # ";" is no separator
    b"a=%ff&b=%c3",  # escapes that are not UTF-8
    b"\xc3\xa9=\xe9",  # raw non-ASCII bytes (latin-1), with and without a valid UTF-8 reading
    b"a=%2",  # a cut-off escape
    b"a=1#frag",
    b"x=\t\r\n",
]


def _same_params(query: bytes) -> None:
    ours = request_query_params(query)
    theirs = QueryParams(query)
    assert type(ours) is QueryParams
    assert ours.multi_items() == theirs.multi_items()
    assert dict(ours) == dict(theirs)
    assert list(ours.keys()) == list(theirs.keys())
    assert all(ours.getlist(name) == theirs.getlist(name) for name in theirs)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs) and ours == theirs


def test_query_params_equal_starlettes_on_tricky_queries() -> None:
    for query in TRICKY_QUERIES:
        _same_params(query)
        _same_params(query)  # again: from the kept parse this time


def test_a_query_seen_again_gets_its_own_copy_of_the_kept_parse() -> None:
    query = b"kept=1&kept=2&other=%20"
    first = request_query_params(query)
    assert requesturl._QUERIES[query] == (first._list, first._dict)
    second = request_query_params(query)
    assert second == first and second.multi_items() == [("kept", "1"), ("kept", "2"), ("other", " ")]
    assert second._list is not first._list and second._dict is not first._dict
    assert second._list is not requesturl._QUERIES[query][0] and second._dict is not requesturl._QUERIES[query][1]
    first._list.append(("late", "x"))  # what one request's params hold never reaches another's
    assert request_query_params(query).multi_items() == [("kept", "1"), ("kept", "2"), ("other", " ")]


def test_only_short_queries_are_kept_and_the_kept_ones_are_bounded() -> None:
    long_query = b"k=" + b"v" * requesturl._QUERY_KEPT_BYTES
    assert request_query_params(long_query)["k"] == "v" * requesturl._QUERY_KEPT_BYTES
    assert long_query not in requesturl._QUERIES
    for number in range(requesturl._QUERIES_KEPT * 3):
        _same_params(f"n={number}&m=%2{number % 10}".encode())
        assert len(requesturl._QUERIES) <= requesturl._QUERIES_KEPT


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=16), st.text(alphabet="ab=&;+% 9fé\t", max_size=16).map(str.encode)))
def test_query_params_equal_starlettes(query: bytes) -> None:
    _same_params(query)
    _same_params(query)


def test_handler_requests_parse_the_query_once() -> None:
    request = HandlerRequest(_scope("/x", "example.test", b"k=1&k=2&j"))
    assert request.query_params is request.query_params
    assert request.query_params.getlist("k") == ["1", "2"] and request.query_params["j"] == ""


# --- request.headers ------------------------------------------------------------------------------

header_lists = st.lists(
    st.tuples(st.sampled_from([b"host", b"x-key", b"X-Key", b"accept", b"\xe9", b""]), st.binary(max_size=4)),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(header_lists, st.sampled_from(["x-key", "X-KEY", "host", "missing", "", "é"]))
def test_request_headers_equal_starlettes(raw: list[tuple[bytes, bytes]], name: str) -> None:
    scope = {**_scope("/", None, b""), "headers": list(raw)}
    ours, theirs = HandlerRequest(dict(scope)).headers, Headers(scope=dict(scope))
    assert ours == theirs and repr(ours) == repr(theirs) and isinstance(ours, Headers)
    assert ours.get(name) == theirs.get(name) and ours.get(name, "default") == theirs.get(name, "default")
    assert (name in ours) == (name in theirs) and ours.getlist(name) == theirs.getlist(name)
    assert ours.items() == theirs.items() and ours.raw == theirs.raw


def test_handler_requests_keep_their_headers_and_take_a_tuple_of_them() -> None:
    scope = {**_scope("/", "example.test", b""), "headers": ((b"x-key", b"v"),)}
    request = HandlerRequest(scope)
    assert request.headers is request.headers and request.headers.get("X-Key") == "v"
    assert scope["headers"] == [(b"x-key", b"v")]  # made a list, as Starlette makes it
    with pytest.raises(AttributeError):  # a bytes name fails as it fails with Starlette's Headers
        request.headers.get(b"x-key")  # type: ignore[arg-type]
