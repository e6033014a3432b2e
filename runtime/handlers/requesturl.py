"""``request.url`` and ``request.query_params`` for handler requests, built from the scope without re-parsing.

Nearly every handler reads ``request.url`` (``request.url.path``, ``urlparse(request.url)``), and
Starlette builds it by formatting the scope into a string and parsing that string back, which costs
more than a KV read. For an ordinary request (a path with no characters that the round trip would
change, a plain ``Host`` header) the parts are known already, so ``request_url`` hands Starlette's
``URL`` its string and its parsed parts together. Anything unusual goes the way Starlette goes, so
the result is always the URL Starlette would give.

``request.query_params`` is Starlette's ``QueryParams``, which runs ``urllib.parse.parse_qsl`` over
the query string and copies the result three times. A query string without ``%`` and ``+`` needs no
unquoting, so ``request_query_params`` splits it as ``parse_qsl`` does (on ``&``, blank values kept,
empty fields skipped) and fills the ``QueryParams`` once; any other goes through Starlette. Either
result of a short query string is kept, and the same string again gets copies of it.

``request.headers`` is Starlette's ``Headers`` with one method of its own: ``get`` of a header that is
not there returns the default without raising and catching a ``KeyError`` first (``Mapping.get``'s
way), which is most of what a lookup costs. The class keeps Starlette's name, so it reads the same.

This is the one module that touches Starlette's internals: ``URL._url`` and ``URL._components``,
the two attributes every ``URL`` method reads, ``_list`` and ``_dict`` of ``QueryParams``, the two
every ``ImmutableMultiDict`` method reads, and ``Headers._list``. pyproject.toml bounds Starlette to
the versions this was checked against, and tests/runtime/handlers/test_requesturl.py compares the
results with Starlette's own ``URL``, ``QueryParams`` and ``Headers`` for every kind of request, so a
change there fails the suite.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult

from starlette import datastructures
from starlette.datastructures import URL, QueryParams
from starlette.types import Scope

__all__ = ["FastURL", "Headers", "request_query_params", "request_url", "request_url_text"]

# A Host header Starlette takes as it is: a name or IPv4 address, and a port of at most five digits.
_PLAIN_HOST = re.compile(rb"[A-Za-z0-9\-.]+(?::([0-9]{1,5}))?")
# A path the round trip would change: Starlette escapes ?, # and \, urlsplit drops tabs and newlines,
# and a path must start with one slash (two would read as a host).
_UNUSUAL_PATH = re.compile(r"[?#\\\t\r\n]|^(?:[^/]|//)")
_UNUSUAL_QUERY = re.compile(rb"[#\t\r\n\x80-\xff]")
_SCHEMES = frozenset({"http", "https"})


def _plain_netloc(host: bytes) -> str | None:
    """``host`` as the URL's netloc, if Starlette takes it as it is; None if not."""
    match = _PLAIN_HOST.fullmatch(host)
    if match is None or (match.group(1) is not None and int(match.group(1)) > 65535):
        return None
    return host.decode("latin-1")


# Host header -> netloc (or None): a server sees a handful of Host values, so each is checked once.
_NETLOCS: dict[bytes, str | None] = {}
_NETLOCS_KEPT = 64
_new_split = tuple.__new__  # SplitResult's own constructor, minus its argument handling


def _plain_parts(scope: Scope) -> tuple[str, str, str, str] | None:
    """(scheme, netloc, path, query) of an ordinary request, which Starlette's round trip keeps as they are."""
    path = scope["path"]
    query_string = scope.get("query_string", b"")
    scheme = scope.get("scheme", "http")
    netloc = None
    for name, value in scope["headers"]:
        if name == b"host":
            try:
                netloc = _NETLOCS[value]
            except KeyError:
                netloc = _plain_netloc(value)
                if len(_NETLOCS) >= _NETLOCS_KEPT:
                    _NETLOCS.clear()
                _NETLOCS[value] = netloc
            break
    if (
        netloc is None
        or _UNUSUAL_PATH.search(path)
        or (query_string and _UNUSUAL_QUERY.search(query_string))
        or scheme not in _SCHEMES
    ):
        return None
    return scheme, netloc, path, query_string.decode() if query_string else ""


# (scheme, Host header, path, query string) -> the URL's text and parts, or None for Starlette's way:
# a server sees the same few URLs again and again, and looking one up costs a fifth of building it.
# Only short URLs are kept, at most _URLS_KEPT; both parts are immutable, so requests share them.
_URLS: dict[tuple[str, bytes, str, bytes], tuple[str, SplitResult] | None] = {}
_URLS_KEPT = 256
_URL_KEPT_CHARS = 512
_MISSING = ("", SplitResult("", "", "", "", ""))


def _url_parts(scope: Scope) -> tuple[str, SplitResult] | None:
    """The text and parts of an ordinary request's URL (kept for the next request to the same URL)."""
    host = b""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    path = scope["path"]
    query_string = scope.get("query_string", b"")
    key = (scope.get("scheme", "http"), host, path, query_string)
    found = _URLS.get(key, _MISSING)
    if found is not _MISSING:
        return found
    parts = _plain_parts(scope)
    if parts is not None:
        scheme, netloc, path, query = parts
        text = f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"
        found = (text, _new_split(SplitResult, (scheme, netloc, path, query, "")))
    else:
        found = None
    if len(path) + len(query_string) + len(host) <= _URL_KEPT_CHARS:
        if len(_URLS) >= _URLS_KEPT:
            _URLS.clear()
        _URLS[key] = found
    return found


def request_url(scope: Scope) -> URL:
    """The URL of an HTTP request, equal to ``starlette.datastructures.URL(scope=scope)``."""
    found = _url_parts(scope)
    if found is None:
        return URL(scope=scope)
    url = URL.__new__(URL)
    url._url, url._components = found
    return url


def request_url_text(scope: Scope) -> str:
    """``str(request_url(scope))``, without building the ``URL`` (what a ``WorkerEntrypoint``'s ``request.url`` is)."""
    found = _url_parts(scope)
    return str(URL(scope=scope)) if found is None else found[0]


# Query string -> its parsed (items, dict): a server sees the same few queries again and again, and
# copying the two is a quarter of parsing them. Only short queries are kept, at most _QUERIES_KEPT.
_QUERIES: dict[bytes, tuple[list[tuple[str, str]], dict[str, str]]] = {}
_QUERIES_KEPT = 64
_QUERY_KEPT_BYTES = 256


def request_query_params(query_string: bytes) -> QueryParams:
    """The query's parameters, equal to ``starlette.datastructures.QueryParams(query_string)``."""
    try:
        items, values = _QUERIES[query_string]
    except KeyError:
        parsed = _parse_query(query_string)
        if len(query_string) <= _QUERY_KEPT_BYTES:
            if len(_QUERIES) >= _QUERIES_KEPT:
                _QUERIES.clear()
            _QUERIES[query_string] = (parsed._list.copy(), parsed._dict.copy())
        return parsed
    # Copies: each request's QueryParams has its own lists, as a parsed one does.
    params = QueryParams.__new__(QueryParams)
    params._list, params._dict = items.copy(), values.copy()
    return params


def _parse_query(query_string: bytes) -> QueryParams:
    if b"%" in query_string or b"+" in query_string:
        return QueryParams(query_string)
    items: list[tuple[str, str]] = []
    if query_string:
        for field in query_string.decode("latin-1").split("&"):
            if field:
                name, _, value = field.partition("=")
                items.append((name, value))
    params = QueryParams.__new__(QueryParams)
    params._list = items
    params._dict = dict(items)  # the last value of a repeated name, as Starlette's
    return params


class Headers(datastructures.Headers):
    """Starlette's ``Headers``, whose ``get`` of an absent header returns the default without raising."""

    def get(self, key: str, default: Any = None) -> Any:
        name = key.lower().encode("latin-1")
        for header, value in self._list:
            if header == name:
                return value.decode("latin-1")
        return default


class FastURL:
    """Gives a Starlette ``Request`` subclass a ``url`` built by ``request_url``, ``query_params`` and ``headers``."""

    def url_text(self) -> str:
        """``str(self.url)``, built without the ``URL`` unless it was built already."""
        found: URL | None = self.__dict__.get("_url")
        return request_url_text(self.scope) if found is None else str(found)

    scope: Scope

    @property
    def url(self) -> URL:
        found: URL | None = self.__dict__.get("_url")  # not getattr: a miss raising costs more than the build
        if found is None:
            found = self._url = request_url(self.scope)
        return found

    @property
    def query_params(self) -> QueryParams:
        found: QueryParams | None = self.__dict__.get("_query_params")
        if found is None:
            found = self._query_params = request_query_params(self.scope["query_string"])
        return found

    @property
    def headers(self) -> datastructures.Headers:
        found: datastructures.Headers | None = self.__dict__.get("_headers")
        if found is None:
            # What Headers(scope=scope) does, less its argument checks (the scope's list is its list).
            raw = self.scope["headers"]
            if raw.__class__ is not list:
                raw = self.scope["headers"] = list(raw)
            made: datastructures.Headers = Headers.__new__(Headers)
            made._list = raw
            self._headers = found = made
        return found
