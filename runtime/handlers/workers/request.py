"""Requests: the one every handler gets, and ``Request`` as Cloudflare's Python Workers give it.

* ``HandlerRequest`` is what module-style and legacy handlers get: a Starlette ``Request`` plus
  ``text()`` and ``bytes()``.
* ``Request`` is what a ``WorkerEntrypoint`` gets, and what code builds: ``Request(url, method=,
  headers=, body=)``. ``url`` is a str, ``headers`` are ``Headers`` (``get`` gives None), ``cf``
  allows attribute access, ``js_object`` is the request itself (the ``asgi`` and ``wsgi`` bridges
  take it), and the body is read with ``await text()``, ``json()``, ``bytes()``, ``form_data()``,
  ``blob()``.

Request bodies are read as Workers read them: at most 100 MiB (Cloudflare's limit on the Free and
Pro plans; a larger or endless body raises ``RequestBodyTooLargeError``, which the host answers with a
413), and text is decoded as the Fetch standard decodes it.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import FormData as StarletteFormData, UploadFile
from starlette.requests import Request as StarletteRequest

from bindings.digits import length_header
from bindings.javascript import parse_json

from ..requesturl import FastURL
from .blob import Blob
from .body import coerce_body, decode_text, read_stream
from .formdata import FormData
from .headers import Headers

__all__ = [
    "MAX_REQUEST_BODY_BYTES",
    "CfProperties",
    "HandlerRequest",
    "Request",
    "RequestBodyTooLargeError",
    "parse_form",
    "read_form",
]

# https://developers.cloudflare.com/workers/platform/limits/#request-limits (Free and Pro plans)
MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024

_CF = {
    "colo": "LOCAL",
    "country": "XX",
    "city": "Local",
    "continent": "XX",
    "asn": 0,
    "asOrganization": "workerhost",
    "timezone": "UTC",
    "httpProtocol": "HTTP/1.1",
    "tlsVersion": "",
    "clientTcpRtt": 0,
}


class CfProperties(dict[str, Any]):
    """``request.cf``: Cloudflare's request properties (a fixed local stand-in), by key or attribute."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class RequestBodyTooLargeError(Exception):
    """A request body is over the 100 MiB a Worker accepts; the host answers 413 unless the handler catches it."""

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(
            f"the request body is {length} bytes or more, over the {MAX_REQUEST_BODY_BYTES} bytes (100 MiB) "
            "a Worker accepts"
        )


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

    async def form_data(self) -> StarletteFormData:
        return await read_form(self)

    async def bytes(self) -> builtins.bytes:
        return await self.body()


async def read_form(request: StarletteRequest) -> StarletteFormData:
    """Parse a form body; urlencoded forms need no extra package."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields: list[tuple[str, str | UploadFile]] = []
        fields += parse_qsl(decode_text(await request.body()), keep_blank_values=True)
        return StarletteFormData(fields)
    return await request.form()


async def parse_form(content_type: str, body: builtins.bytes) -> FormData:
    """A urlencoded or multipart body as ``FormData`` (multipart needs python-multipart, as Starlette does)."""
    form = FormData()
    if content_type.startswith("application/x-www-form-urlencoded"):
        for name, value in parse_qsl(decode_text(body), keep_blank_values=True):
            form.append(name, value)
        return form
    if not content_type.startswith("multipart/form-data"):
        raise TypeError(f'the body is not a form (Content-Type is "{content_type}")')
    chunks = [body]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": chunks.pop() if chunks else b"", "more_body": False}

    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type.encode("latin-1"))]}
    async with StarletteRequest(scope, receive).form() as parsed:
        return FormData(parsed)


class Request:
    """An HTTP request, as Cloudflare's Python Workers give and build it.

    Args:
        input: a URL, another ``Request``, or the host's own request object.
        method: GET by default.
        headers: a dict, a list of (name, value) pairs, or ``Headers``.
        body: str, bytes, ``FormData``, ``Blob`` or a stream of chunks.
        cf: Cloudflare properties for an outbound request; accepted and kept.
    """

    __slots__ = ("_url", "_method", "_headers", "_body", "_stream", "starlette", "_cf", "redirect", "body_used")

    def __init__(
        self,
        input: Any,
        *,
        method: str | None = None,
        headers: Any = None,
        body: Any = None,
        cf: Any = None,
        redirect: str = "follow",
        **_ignored: Any,
    ) -> None:
        self.starlette: StarletteRequest | None = None
        self._body: builtins.bytes | None = None
        self._stream: AsyncIterator[builtins.bytes] | None = None
        self._cf = cf
        self.redirect = redirect
        self.body_used = False
        self._headers: Headers | None
        if isinstance(input, StarletteRequest):
            self.starlette = input
            self._url: str | None = None
            self._method = input.method
            self._headers = None
        elif isinstance(input, Request):
            self.starlette = input.starlette
            self._url = input._url if input.starlette is None else str(input.url)
            self._method = input._method
            self._headers = Headers(input.headers)
            self._body, self._stream = input._body, input._stream
        else:
            self._url = str(input)
            self._method = "GET"
            self._headers = Headers()
        if method is not None:
            self._method = str(getattr(method, "value", method)).upper()
        if headers is not None:
            self._headers = Headers(headers)
        if body is not None:
            data, stream, implied = coerce_body(body, "Request")
            self.starlette = None if self._url is not None else self.starlette
            if self._url is None:
                self._url = str(input.url)
            self._body, self._stream = data, stream
            if self._headers is None:
                self._headers = Headers(input.headers if isinstance(input, StarletteRequest) else None)
            if implied and not self._headers.has("content-type"):
                self._headers.set("content-type", implied)

    @classmethod
    def of(cls, request: StarletteRequest) -> Request:
        """``Request(request)`` for the host's own request: what a ``WorkerEntrypoint``'s fetch gets.

        The constructor's checks are for what code passes it; this is the request every call gets, so
        its fields are set directly, as the constructor sets them (tests compare the two).
        """
        made = cls.__new__(cls)
        made.starlette = request
        made._url = None
        made._method = request.scope["method"]
        made._headers = None
        made._body = None
        made._stream = None
        made._cf = None
        made.redirect = "follow"
        made.body_used = False
        return made

    # --- what the request is ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            request = self.starlette
            assert request is not None
            self._url = request.url_text() if isinstance(request, FastURL) else str(request.url)
        return self._url

    @property
    def method(self) -> str:
        return self._method

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            assert self.starlette is not None
            self._headers = Headers.from_raw(self.starlette.scope["headers"])
        return self._headers

    @property
    def cf(self) -> CfProperties:
        """Cloudflare's request properties (``request.cf.colo``); locally a fixed stand-in."""
        return CfProperties(self._cf if isinstance(self._cf, dict) else _CF)

    @property
    def js_object(self) -> Request:
        """Cloudflare's SDK exposes the JavaScript request here; locally the request stands for itself."""
        return self

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's address, when the request came in over the network."""
        if self.starlette is None:
            return None
        client = self.starlette.scope.get("client")
        return (str(client[0]), int(client[1])) if client else None

    @property
    def body(self) -> AsyncIterator[builtins.bytes] | None:
        """The body as an async stream of chunks (read once), or None when there is none."""
        if self._body is not None:
            return _once(self._body)
        if self._stream is not None:
            stream, self._stream = self._stream, None
            return stream
        if self.starlette is not None:
            if self.starlette.method in ("GET", "HEAD") and "content-length" not in self.starlette.headers:
                return None
            return self.starlette.stream()
        return None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"

    # --- reading the body ------------------------------------------------------------------------

    async def read_body(self) -> builtins.bytes:
        if self._body is None:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                try:
                    self._body = await read_stream(stream, MAX_REQUEST_BODY_BYTES)
                except ValueError:
                    raise RequestBodyTooLargeError(MAX_REQUEST_BODY_BYTES + 1) from None
            elif self.starlette is not None:
                self._body = await self.starlette.body()
            else:
                self._body = b""
        self.body_used = True
        return self._body

    async def text(self) -> str:
        return decode_text(await self.read_body())

    async def json(self) -> Any:
        return parse_json(decode_text(await self.read_body()))

    async def form_data(self) -> FormData:
        """The form fields of a urlencoded (or, with python-multipart installed, multipart) body."""
        return await parse_form(self.headers.get("content-type", ""), await self.read_body())

    formData = form_data  # the JS spelling

    async def blob(self) -> Blob:
        return Blob([await self.read_body()], self.headers.get("content-type"))

    async def array_buffer(self) -> builtins.bytes:
        return await self.read_body()

    arrayBuffer = array_buffer
    buffer = array_buffer

    async def clone(self) -> Request:
        """A copy with the same method, URL, headers and body (the body is read to make it)."""
        body = await self.read_body()
        return Request(self.url, method=self.method, headers=Headers(self.headers), body=body or None, cf=self._cf)

    async def bytes(self) -> builtins.bytes:
        return await self.read_body()


async def _once(data: builtins.bytes) -> AsyncIterator[builtins.bytes]:
    yield data
