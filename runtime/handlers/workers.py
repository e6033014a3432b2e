"""The ``workers`` module that handler scripts import, as Cloudflare's Python Workers provide it.

``from workers import Response, WorkerEntrypoint`` works in every script the host loads, so a script
written for Cloudflare runs here unchanged. ``Response`` is also ``runtime.Response``: a Starlette
``Response`` that accepts both Cloudflare's arguments (``body``, ``status``, ``headers``) and
Starlette's (``content``, ``status_code``, ``media_type``).

Request bodies are read as Workers read them: at most 100 MiB (Cloudflare's limit on the Free and
Pro plans; a larger or endless body raises ``RequestBodyTooLargeError``, which the host answers with a
413), and text is decoded as the Fetch standard decodes it (a BOM dropped, invalid UTF-8 replaced
by U+FFFD rather than raising), for ``text()`` and ``json()`` alike. ``json()`` parses as ``JSON.parse``
does: no ``NaN`` or ``Infinity``, and a number of any length (one past the largest double is ``inf``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response as StarletteResponse

from bindings.digits import length_header
from bindings.javascript import parse_json

from .requesturl import FastURL

__all__ = ["Request", "RequestBodyTooLargeError", "Response", "WorkerEntrypoint", "handler"]

# https://developers.cloudflare.com/workers/platform/limits/#request-limits (Free and Pro plans)
MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TEXT = "text/plain;charset=UTF-8"
_JSON = "application/json"
_CF = {"colo": "LOCAL", "country": "XX", "asn": 0, "httpProtocol": "HTTP/1.1"}
F = TypeVar("F", bound=Callable[..., Any])


def _json_default(value: Any) -> Any:
    # KV results (list pages, get_with_metadata) and similar objects serialise through to_dict().
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _header_items(headers: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if isinstance(headers, Headers):
        return dict(headers.items())
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    items = {str(k): str(v) for k, v in pairs}
    for name, value in items.items():
        # As the Headers class of Workers refuses them: they could only break the response (or forge one).
        if "\n" in value or "\r" in value or "\0" in value:
            raise TypeError(f"Invalid header value for {name!r}: it holds a line break or NUL ({value!r})")
    return items


def _check_status(code: int) -> int:
    # Workers' Response constructor refuses other codes, and no server could send them.
    if not (200 <= code <= 599 or code == 101):
        raise ValueError(
            f"Responses may only be constructed with status codes in the range 200 to 599, inclusive (got {code})"
        )
    return code


class Response(StarletteResponse):
    """An HTTP response a handler returns.

    Args:
        body: a str or bytes (also accepted as ``content``); None for an empty body.
        status: the status code (also accepted as ``status_code``); 200 by default.
        status_text: accepted for Cloudflare compatibility; the server sends the standard reason phrase.
        headers: a dict or a list of (name, value) pairs.
        media_type: the Content-Type, if ``headers`` does not set one. A str body defaults to text/plain.
    """

    def __init__(
        self,
        body: str | bytes | bytearray | memoryview | None = None,
        status: int | None = None,
        status_text: str = "",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        *,
        content: Any = None,
        status_code: int | None = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        if body.__class__ is str and status is None and status_code is None and headers is None and media_type is None:
            # The common case, Response("some text"): a 200 with no headers to sort out.
            self.status_text = status_text
            StarletteResponse.__init__(self, body, 200, None, _TEXT, background)
            return
        if body is None:
            body = content
        if isinstance(body, bytearray | memoryview):
            body = bytes(body)
        elif body is not None and not isinstance(body, str | bytes):
            raise TypeError(f"Response body must be str or bytes, got {type(body).__name__}; use Response.json()")
        header_map = _header_items(headers)
        if media_type is None and isinstance(body, str) and not any(k.lower() == "content-type" for k in header_map):
            media_type = _TEXT
        self.status_text = status_text
        code = status if status is not None else status_code
        super().__init__(body, 200 if code is None else _check_status(code), header_map or None, media_type, background)

    @classmethod
    def json(
        cls,
        data: Any,
        status: int = 200,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        *,
        status_code: int | None = None,
    ) -> Response:
        """A JSON response, as ``Response.json(data)`` in Workers; KV results serialise via ``to_dict()``."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default, allow_nan=False)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (KV metadata may hold one): escape as JSON.stringify does
                text = json.dumps(data, separators=(",", ":"), default=_json_default, allow_nan=False)
        return cls(text, status_code or status, headers=headers, media_type=_JSON)

    @classmethod
    def redirect(cls, url: str, status: int = 302) -> Response:
        """A redirect to ``url``; ``status`` must be 301, 302, 303, 307 or 308, as in Workers."""
        if status not in _REDIRECT_STATUSES:
            raise ValueError(f"Invalid status code {status} for a redirect; expected 301, 302, 303, 307 or 308")
        return cls(None, status, headers={"location": str(url)})


class RequestBodyTooLargeError(Exception):
    """A request body is over the 100 MiB a Worker accepts; the host answers 413 unless the handler catches it."""

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(
            f"the request body is {length} bytes or more, over the {MAX_REQUEST_BODY_BYTES} bytes (100 MiB) "
            "a Worker accepts"
        )


def decode_text(data: bytes) -> str:
    """Bytes as the Fetch standard's ``text()`` decodes them: UTF-8, BOM dropped, bad bytes replaced."""
    return data.decode("utf-8-sig", "replace")


class HandlerRequest(FastURL, StarletteRequest):
    """The request module-style and legacy handlers get: a Starlette Request plus ``text()`` and ``bytes()``."""

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The body in chunks, refused with ``RequestBodyTooLargeError`` past 100 MiB (announced or received)."""
        announced = length_header(self.headers.get("content-length", ""))
        if announced is not None and announced > MAX_REQUEST_BODY_BYTES:
            raise RequestBodyTooLargeError(announced)
        received = 0
        async for chunk in super().stream():
            received += len(chunk)
            if received > MAX_REQUEST_BODY_BYTES:
                raise RequestBodyTooLargeError(received)
            yield chunk

    async def text(self) -> str:
        return decode_text(await self.body())

    async def json(self) -> Any:
        return parse_json(decode_text(await self.body()))

    async def bytes(self) -> bytes:
        return await self.body()

    async def form_data(self) -> FormData:
        return await read_form(self)


class Request:
    """The request a ``WorkerEntrypoint`` sees: ``url`` is a plain string, the body methods are async.

    It wraps the same Starlette request the other handler shapes get; ``.starlette`` reaches it.
    """

    __slots__ = ("starlette", "_url")

    def __init__(self, request: StarletteRequest) -> None:
        self.starlette = request
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = str(self.starlette.url)
        return self._url

    @property
    def method(self) -> str:
        return self.starlette.method

    @property
    def headers(self) -> Headers:
        return self.starlette.headers

    @property
    def cf(self) -> dict[str, Any]:
        """Cloudflare's request properties; locally a fixed stand-in."""
        return dict(_CF)

    async def bytes(self) -> bytes:
        return await self.starlette.body()

    async def text(self) -> str:
        return decode_text(await self.starlette.body())

    async def json(self) -> Any:
        return parse_json(decode_text(await self.starlette.body()))

    async def form_data(self) -> FormData:
        """The form fields of a urlencoded (or, with python-multipart installed, multipart) body."""
        return await read_form(self.starlette)

    formData = form_data  # the JS spelling

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


async def read_form(request: StarletteRequest) -> FormData:
    """Parse a form body; urlencoded forms need no extra package."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields: list[tuple[str, str | UploadFile]] = []
        fields += parse_qsl(decode_text(await request.body()), keep_blank_values=True)
        return FormData(fields)
    return await request.form()


class WorkerEntrypoint:
    """Base class of ``class Default(WorkerEntrypoint)`` handlers: ``self.env`` and ``self.ctx`` are set per call."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


def handler(function: F) -> F:
    """The ``@handler`` decorator of older Python Workers scripts; it changes nothing."""
    return function
