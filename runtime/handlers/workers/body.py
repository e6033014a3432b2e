"""Bodies as Workers take them: text, bytes, ``FormData``, ``Blob``, or a stream of chunks.

``coerce_body`` turns what a ``Response``, a ``Request`` or ``fetch`` is given into bytes (or an async
stream) and the content type the body implies, the one Workers gives it: ``text/plain;charset=UTF-8``
for a str, ``multipart/form-data; boundary=...`` for ``FormData``, a ``Blob``'s own type, none for bytes.
Text is decoded as the Fetch standard decodes it (a BOM dropped, invalid UTF-8 replaced by U+FFFD).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from .blob import Blob
from .formdata import FormData

__all__ = ["TEXT", "coerce_body", "decode_text", "read_stream"]

TEXT = "text/plain;charset=UTF-8"


def decode_text(data: bytes) -> str:
    """Bytes as the Fetch standard's ``text()`` decodes them: UTF-8, BOM dropped, bad bytes replaced."""
    return data.decode("utf-8-sig", "replace")


async def _from_sync(chunks: Iterator[Any]) -> AsyncIterator[bytes]:
    # A generator may block (a file, a computation): each chunk is produced off the event loop.
    end = object()
    while True:
        chunk = await asyncio.to_thread(next, chunks, end)
        if chunk is end:
            return
        yield _chunk(chunk)


async def _from_async(chunks: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield _chunk(chunk)


def _chunk(chunk: Any) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    raise TypeError(f"a streamed body yields str or bytes chunks, got {type(chunk).__name__}")


def coerce_body(body: Any, what: str = "Response") -> tuple[bytes | None, AsyncIterator[bytes] | None, str | None]:
    """``(data, stream, content_type)``: the body as bytes, or as a stream, and the type it implies.

    Raises:
        TypeError: for a body Workers would not take (a dict: use ``Response.json``).
    """
    if body is None:
        return None, None, None
    if isinstance(body, str):
        return body.encode("utf-8"), None, TEXT
    if isinstance(body, bytes):
        return body, None, None
    if isinstance(body, bytearray | memoryview):
        return bytes(body), None, None
    if isinstance(body, FormData):
        data, content_type = body.encode()
        return data, None, content_type
    if isinstance(body, Blob):
        return body._data, None, body.content_type or None
    if isinstance(body, AsyncIterable):
        return None, _from_async(body), None
    if isinstance(body, Iterable) and not isinstance(body, dict | list | tuple | set):
        return None, _from_sync(iter(body)), None
    hint = "; use Response.json()" if what == "Response" else "; send JSON as json.dumps(data)"
    raise TypeError(f"{what} body must be str or bytes, got {type(body).__name__}{hint}")


async def read_stream(stream: AsyncIterator[bytes], limit: int | None = None) -> bytes:
    """Every chunk of ``stream`` joined (at most ``limit`` bytes, else ValueError)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if limit is not None and size > limit:
            raise ValueError(f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
