"""Request bodies read under a limit, as they stream in.

A body is refused before any of it is read when its ``Content-Length`` is over the limit, and
otherwise at the first chunk that takes it over, so an oversized (or endless) request is never
buffered. Only bodies within their limit are held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from starlette.requests import Request

from bindings import javascript
from bindings.digits import length_header

from .envelope import CF_VALIDATION, ApiError

__all__ = ["MAX_SMALL_JSON_BYTES", "declared_length", "parse_json", "read_json", "read_limited", "too_large"]

# Namespace titles and bulk-get requests (100 keys of 512 bytes, even \u-escaped) fit easily.
MAX_SMALL_JSON_BYTES = 1024 * 1024

Refuse = Callable[[int], NoReturn]


def declared_length(request: Request) -> int | None:
    """The body length the client announced, or None (chunked, or no body)."""
    raw = request.headers.get("content-length")
    # A malformed one is refused by the HTTP server before it gets here; if not, count instead.
    return None if raw is None else length_header(raw)


def too_large(limit: int) -> Refuse:
    """A ``Refuse`` for bodies that have no KV-specific limit message."""

    def refuse(length: int) -> NoReturn:
        message = f"Request body of {length} bytes or more exceeds the limit of {limit} bytes."
        raise ApiError(413, CF_VALIDATION, message)

    return refuse


async def read_limited(request: Request, limit: int, refuse: Refuse | None = None) -> bytearray:
    """The whole body, or ``refuse(length)`` once it is known to exceed ``limit`` bytes.

    ``refuse`` must raise; it gets the announced length, or the bytes received so far.
    """
    refuse = refuse or too_large(limit)
    announced = declared_length(request)
    if announced is not None and announced > limit:
        refuse(announced)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            refuse(len(data))
    return data


def parse_json(data: bytes | bytearray) -> Any:
    """Parse a JSON body; a malformed one is a clean 400, however deeply it nests."""
    try:
        return javascript.parse_json(data)  # no NaN or Infinity, which Python's parser would accept
    except RecursionError:
        raise ApiError(400, CF_VALIDATION, "Malformed JSON in request body: nested too deeply") from None
    except ValueError as exc:  # includes UnicodeDecodeError
        raise ApiError(400, CF_VALIDATION, f"Malformed JSON in request body: {exc}") from None


async def read_json(request: Request, limit: int = MAX_SMALL_JSON_BYTES) -> Any:
    """Read (under ``limit``) and parse a JSON body."""
    return parse_json(await read_limited(request, limit))
