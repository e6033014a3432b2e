"""A small multipart/form-data parser (RFC 7578) for value writes.

The body reaches it already read under a limit (``body.read_limited``), so it works in memory:
part contents are ``memoryview`` slices of that one buffer, never copies, and a 25 MiB value costs
25 MiB once. Starlette's own form parser needs the ``python-multipart`` package, which we do not
depend on for two fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .envelope import CF_VALIDATION, ApiError

__all__ = ["FormPart", "boundary_of", "parse_form"]

MAX_PARTS = 64
MAX_PART_HEADER_BYTES = 16 * 1024
_BOUNDARY = re.compile(r';\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))', re.IGNORECASE)
_NAME = re.compile(r';\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))', re.IGNORECASE)
_FILENAME = re.compile(r';\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]+))', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FormPart:
    """One field of a form: its content, and whether it was sent as a file."""

    name: str
    content: memoryview
    filename: str | None
    content_type: str | None


def _malformed(reason: str) -> ApiError:
    return ApiError(400, CF_VALIDATION, f"Malformed multipart/form-data body: {reason}")


def boundary_of(content_type: str) -> bytes:
    """The boundary parameter of a ``multipart/form-data`` content type."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise _malformed("the Content-Type header has no boundary")
    return (match.group(1) or match.group(2)).encode("latin-1")


def _parse_headers(block: bytes | bytearray) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise _malformed(f"bad part header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def _param(pattern: re.Pattern[str], disposition: str) -> str | None:
    match = pattern.search(disposition)
    if match is None:
        return None
    quoted, token = match.groups()
    return token if quoted is None else re.sub(r"\\(.)", r"\1", quoted)


def _part(body: memoryview, data: bytes | bytearray, start: int, end: int) -> FormPart:
    split = data.find(b"\r\n\r\n", start, end)
    if split < 0 or split - start > MAX_PART_HEADER_BYTES:
        raise _malformed("a part has no header block")
    headers = _parse_headers(data[start:split]) if split > start else {}
    disposition = headers.get("content-disposition", "")
    name = _param(_NAME, disposition)
    if not disposition.lower().startswith("form-data") or name is None:
        raise _malformed("a part has no Content-Disposition: form-data name")
    return FormPart(name, body[split + 4 : end], _param(_FILENAME, disposition), headers.get("content-type"))


def parse_form(data: bytes | bytearray, boundary: bytes) -> dict[str, FormPart]:
    """The fields of a form body, by name (the first of a repeated name wins)."""
    body = memoryview(data)
    delimiter = b"--" + boundary
    position = data.find(delimiter)
    if position < 0:
        raise _malformed("the boundary never occurs")
    parts: dict[str, FormPart] = {}
    separator = b"\r\n" + delimiter
    for _ in range(MAX_PARTS + 1):
        position += len(delimiter)
        if data[position : position + 2] == b"--":
            return parts
        if data[position : position + 2] != b"\r\n":
            raise _malformed("a boundary is not followed by CRLF")
        start = position + 2
        position = data.find(separator, start)
        if position < 0:
            raise _malformed("the closing boundary is missing")
        part = _part(body, data, start, position)
        parts.setdefault(part.name, part)
        position += 2  # the CRLF before the delimiter
    raise _malformed(f"more than {MAX_PARTS} parts")
