"""``Response``: what a handler returns, and what ``fetch`` and ``env.ASSETS.fetch`` give back.

It is a Starlette ``Response`` (so ``runtime.Response`` is the same class, and Starlette's arguments
``content``, ``status_code`` and ``media_type`` work too) with the Workers API on top:

* ``Response(body, status=, status_text=, headers=)``: a str body is ``text/plain;charset=UTF-8``;
  bytes, ``FormData``, ``Blob`` and streams (async or plain iterators of chunks) are taken too;
* ``Response.json(data)`` (``application/json``) and ``Response.redirect(url, status=302)``;
* ``.status``, ``.ok``, ``.headers`` (case-insensitive, ``get`` gives None), ``.url``;
* on any response, such as one ``fetch`` returned: ``await .text()``, ``.json()``, ``.bytes()``,
  ``.form_data()``, ``.blob()``. ``Response.json`` builds on the class and reads on an instance, as in
  Cloudflare's SDK.
"""

from __future__ import annotations

import builtins
import json as jsonlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, overload

from starlette.responses import Response as StarletteResponse
from starlette.types import Receive, Scope, Send

from bindings.javascript import parse_json

from ..jsonencode import compact_encoder
from .blob import Blob
from .body import TEXT, coerce_body, decode_text, read_stream
from .formdata import FormData
from .headers import Headers, check_header

__all__ = ["FetchResponse", "Response"]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_JSON = "application/json"
_JSON_HEADER = (b"content-type", b"application/json")
_TEXT_HEADER = (b"content-type", TEXT.encode("latin-1"))
R = TypeVar("R", bound="Response")


def _json_default(value: Any) -> Any:
    # KV results (list pages, get_with_metadata) and similar objects serialise through to_dict().
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, bytes | bytearray | memoryview):
        return builtins.bytes(value).decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Built once: json.dumps would build an encoder for every call that passes options. The second escapes
# non-ASCII, as JSON.stringify's output reads once encoded, for text UTF-8 cannot hold (a lone surrogate).
_JSON_TEXT = compact_encoder(_json_default)
_JSON_ASCII = jsonlib.JSONEncoder(separators=(",", ":"), default=_json_default, allow_nan=False)


def _json_body(data: Any) -> bytes:
    """``data`` as Workers' ``Response.json`` sends it: compact JSON in UTF-8."""
    try:
        return _JSON_TEXT(data).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (KV metadata may hold one): escape as JSON.stringify does
        return _JSON_ASCII.encode(data).encode("utf-8")


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """(name, value) pairs from a dict, a list of pairs, ``Headers`` or Starlette's headers; values checked."""
    if headers is None:
        return []
    if isinstance(headers, Headers):
        pairs: Iterable[Any] = headers.items()
    elif hasattr(headers, "multi_items"):
        pairs = headers.multi_items()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    result = []
    for name, value in pairs:
        name, value = str(name), str(value)
        # As the Headers class of Workers refuses them: they could only break the response (or forge one).
        check_header(name, value)
        result.append((name, value))
    return result


def _check_status(code: int) -> int:
    # Workers' Response constructor refuses other codes, and no server could send them.
    if not (200 <= code <= 599 or code == 101):
        raise ValueError(
            f"Responses may only be constructed with status codes in the range 200 to 599, inclusive (got {code})"
        )
    return code


class _JsonMethod(Generic[R]):
    """``Response.json(data)`` builds a JSON response; ``await response.json()`` reads one."""

    @overload
    def __get__(self, instance: None, owner: type[R]) -> Callable[..., R]: ...

    @overload
    def __get__(self, instance: R, owner: type[R]) -> Callable[[], Awaitable[Any]]: ...

    def __get__(self, instance: R | None, owner: type[R]) -> Any:
        if instance is None:
            return owner.from_json
        return instance.read_json


class Response(StarletteResponse):
    """An HTTP response.

    Args:
        body: str, bytes, ``FormData``, ``Blob``, a stream of chunks, or None (also accepted as ``content``).
        status: the status code (also accepted as ``status_code``); 200 by default.
        status_text: the reason phrase, kept as ``status_text``; the server sends the standard one.
        headers: a dict, a list of (name, value) pairs (a name may repeat) or ``Headers``.
        media_type: the Content-Type, if ``headers`` does not set one.
    """

    json = _JsonMethod["Response"]()

    def __init__(
        self,
        body: Any = None,
        status: int | None = None,
        status_text: str = "",
        headers: Any = None,
        *,
        content: Any = None,
        status_code: int | None = None,
        media_type: str | None = None,
        background: Any = None,
        url: str = "",
        web_socket: Any = None,
    ) -> None:
        self.url = url
        self._stream: AsyncIterator[builtins.bytes] | None = None
        if body.__class__ is str and status is None and status_code is None and headers is None and media_type is None:
            # The common case, Response("some text"): a 200 with no headers to sort out. This class's
            # own instances get directly what Starlette's __init__ would set (tests compare the two);
            # a subclass may override render() or init_headers(), so it goes through them.
            self.status_text = status_text
            if self.__class__ is Response:
                self.status_code = 200
                self.media_type = TEXT
                self.background = background
                self.body = encoded = body.encode()
                self.raw_headers = [(b"content-length", str(len(encoded)).encode()), _TEXT_HEADER]
            else:
                StarletteResponse.__init__(self, body, 200, None, TEXT, background)
            return
        if body is None:
            body = content
        data, stream, implied = coerce_body(body)
        pairs = header_pairs(headers)
        if any(name.lower() == "content-type" for name, _ in pairs):
            media_type = implied = None
        self.status_text = status_text
        code = status if status is not None else status_code
        # A type the body implies is sent exactly as Workers sends it (Starlette would add a charset to
        # text/*); one given as Starlette's media_type is Starlette's to complete.
        super().__init__(data, 200 if code is None else _check_status(code), None, media_type, background)
        if media_type is None and implied is not None:
            self.raw_headers.append((b"content-type", implied.encode("latin-1")))
        if stream is not None:
            self._stream = stream
            self.raw_headers = [(name, value) for name, value in self.raw_headers if name != b"content-length"]
        present = {name for name, _ in self.raw_headers}
        for name, value in pairs:
            key = name.lower().encode("latin-1")
            if key == b"content-length" and key in present:
                continue
            self.raw_headers.append((key, value.encode("latin-1")))

    @classmethod
    def from_json(
        cls: type[R],
        data: Any,
        status: int = 200,
        status_text: Any = "",
        headers: Any = None,
        *,
        status_code: int | None = None,
    ) -> R:
        """A JSON response, as ``Response.json(data)`` in Workers; KV results serialise via ``to_dict()``."""
        if not isinstance(status_text, str):  # Response.json(data, 200, {"x": "y"}): headers third, as before
            headers, status_text = status_text, ""
        body = _json_body(data)
        code = status_code or status
        if headers is None and cls is Response and 200 <= code <= 599 and code not in (204, 304):
            # The usual call, Response.json(data): the headers are known, so they are set directly,
            # exactly as the constructor below would set them (tests compare the two).
            response = cls.__new__(cls)
            response.url = ""
            response._stream = None
            response.status_text = status_text
            response.status_code = code
            response.background = None
            response.body = body
            response.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_HEADER]
            return response
        pairs = header_pairs(headers)
        if not any(name.lower() == "content-type" for name, _ in pairs):
            pairs.append(("content-type", _JSON))
        return cls(body, code, status_text, pairs)

    @classmethod
    def redirect(cls: type[R], url: str, status: int = 302) -> R:
        """A redirect to ``url``; ``status`` must be 301, 302, 303, 307 or 308, as in Workers."""
        if status not in _REDIRECT_STATUSES:
            raise ValueError(f"Invalid status code {status} for a redirect; expected 301, 302, 303, 307 or 308")
        return cls(None, status, headers={"location": str(url)})

    # --- what a response is ----------------------------------------------------------------------

    @property
    def status(self) -> int:
        return self.status_code

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code <= 299

    @property
    def redirected(self) -> bool:
        return False

    @property
    def js_object(self) -> Response:
        """Cloudflare's SDK exposes the JavaScript object here; locally the response stands for itself."""
        return self

    def __repr__(self) -> str:
        parts = [f"status={self.status_code}"]
        if self.status_text:
            parts.append(f"status_text={self.status_text!r}")
        content_type = self.headers.get("content-type")
        if content_type:
            parts.append(f"content_type={content_type!r}")
        if self.url:
            parts.append(f"url={self.url!r}")
        return f"Response({', '.join(parts)})"

    # --- reading the body ------------------------------------------------------------------------

    async def read_body(self) -> builtins.bytes:
        """The whole body (a streamed one is read to its end, once)."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            self.body = await read_stream(stream)
            if not any(name == b"content-length" for name, _ in self.raw_headers):
                self.raw_headers.append((b"content-length", str(len(self.body)).encode()))
        return builtins.bytes(self.body)

    async def text(self) -> str:
        return decode_text(await self.read_body())

    async def read_json(self) -> Any:
        """The body parsed as JSON (what ``await response.json()`` calls)."""
        return parse_json(decode_text(await self.read_body()))

    async def form_data(self) -> FormData:
        from .request import parse_form

        return await parse_form(self.headers.get("content-type", ""), await self.read_body())

    formData = form_data

    async def blob(self) -> Blob:
        return Blob([await self.read_body()], self.headers.get("content-type"))

    async def array_buffer(self) -> builtins.bytes:
        return await self.read_body()

    arrayBuffer = array_buffer

    async def clone(self) -> Response:
        """A copy with the same status, headers and body (the body is read to make it)."""
        body = await self.read_body()
        copy = Response(body, self.status_code, self.status_text, url=self.url)
        copy.raw_headers = list(self.raw_headers)
        return copy

    # --- sending ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = self._stream
        if stream is None:
            await super().__call__(scope, receive, send)
            return
        self._stream = None
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        try:
            async for chunk in stream:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                await closing()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()

    async def bytes(self) -> builtins.bytes:
        return builtins.bytes(await self.read_body())


FetchResponse = Response  # the name Cloudflare's SDK gives what fetch returns
