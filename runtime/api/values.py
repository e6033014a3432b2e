"""Single-key endpoints: read a value (raw bytes), read its metadata, write it, delete it.

Keys come percent-decoded from the path. They are decoded from the raw path, not from the
server's already-decoded one, so bytes that are not UTF-8 (``%FF``) are refused with the KV
service's "Could not URL-decode key name" instead of becoming U+FFFD.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import NoReturn
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bindings.errors import KVError
from bindings.limits import MAX_VALUE_BYTES, check_int32_text, check_key, check_metadata_size, check_value_size
from bindings.storage import EntryStream

from .body import declared_length, read_limited
from .context import ApiContext
from .envelope import CF_KEY_NOT_FOUND, CF_VALIDATION, ApiError, success
from .multipart import boundary_of, parse_form

__all__ = ["delete_value", "get_metadata", "get_value", "path_key", "put_value"]

_KEY_ROOT = b"/storage/kv/namespaces/"
# Values up to this size are sent in one piece; larger ones stream from the store.
_INLINE_RESPONSE = 256 * 1024
# A form carries the value plus a little: part headers, boundaries and the metadata field.
MAX_FORM_BYTES = MAX_VALUE_BYTES + 64 * 1024


def path_key(request: Request) -> bytes:
    """The checked UTF-8 key named by the path's ``{key_name}`` (the KV service's key checks)."""
    raw_path: bytes | None = request.scope.get("raw_path")
    key = request.path_params["key_name"]
    if raw_path is not None:
        start = raw_path.find(_KEY_ROOT)
        segments = raw_path[start + len(_KEY_ROOT) :].split(b"/", 2) if start >= 0 else []
        if len(segments) == 3 and segments[1] in (b"values", b"metadata"):
            try:
                key = unquote_to_bytes(segments[2]).decode("utf-8")
            except UnicodeDecodeError:
                raise KVError(400, "Could not URL-decode key name") from None
    return check_key(key)


def _not_found() -> ApiError:
    return ApiError(404, CF_KEY_NOT_FOUND, "key not found")


async def _chunks(stream: EntryStream) -> AsyncIterator[bytes]:
    # Close the store's snapshot even if the client goes away mid-value.
    async with stream:
        async for chunk in stream.chunks:
            yield chunk


async def get_value(api: ApiContext, request: Request) -> Response:
    """Read a value as raw bytes, no envelope. Emulates ``workers-kv-namespace-read-key-value-pair``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/values/methods/get/
    An expiring key's expiration (seconds since the epoch) is sent in the ``expiration`` header.
    """
    service = await api.service(request.path_params["namespace_id"])
    stream = await service.open(path_key(request))
    if stream is None:
        raise _not_found()
    headers = {"content-length": str(stream.size)}
    if stream.expiration is not None:
        headers["expiration"] = str(stream.expiration)
    if stream.size <= _INLINE_RESPONSE:
        body = b"".join([chunk async for chunk in _chunks(stream)])
        return Response(body, headers=headers, media_type="application/octet-stream")
    return StreamingResponse(_chunks(stream), headers=headers, media_type="application/octet-stream")


async def get_metadata(api: ApiContext, request: Request) -> Response:
    """Read a key's metadata (``null`` if it has none). Emulates ``workers-kv-namespace-read-the-metadata-for-a-key``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/metadata/methods/get/
    """
    service = await api.service(request.path_params["namespace_id"])
    stream = await service.open(path_key(request))  # opened, not read: the value may be 25 MiB
    if stream is None:
        raise _not_found()
    await stream.aclose()
    return success(None if stream.metadata is None else json.loads(stream.metadata))


def _refuse_form(length: int) -> NoReturn:
    # A form over the limit carries a value over it: refuse with the service's own message.
    check_value_size(length)
    raise AssertionError(f"{length} is within the value limit")


async def _form_fields(request: Request, content_type: str) -> tuple[memoryview, str | None]:
    """The ``value`` and ``metadata`` fields of a multipart write, read under the value limit."""
    boundary = boundary_of(content_type)
    data = await read_limited(request, MAX_FORM_BYTES, _refuse_form)
    fields = parse_form(data, boundary)
    value = fields.get("value")
    if value is None:
        raise ApiError(400, CF_VALIDATION, "Missing value field")
    metadata = fields.get("metadata")
    return value.content, None if metadata is None else _metadata_text(bytes(metadata.content))


def _metadata_text(raw: bytes) -> str:
    # JSON text is UTF-8 (RFC 8259 §8.1): other bytes are refused as JSON that does not parse would be,
    # after the size check that comes first, rather than stored with U+FFFD in place of what was sent.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        check_metadata_size(raw)
        raise KVError(400, "metadata must be valid json", code=10147) from None


async def put_value(api: ApiContext, request: Request) -> Response:
    """Write a value. Emulates ``workers-kv-namespace-write-key-value-pair-with-metadata``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/values/methods/update/
    A ``multipart/form-data`` body carries the ``value`` and ``metadata`` fields; any other body is
    the value itself, byte for byte. That includes the ``{"value", "metadata"}`` JSON body that
    SDK versions 4.1–4.3 sent: production stored that JSON verbatim as the value
    (cloudflare-python#2519), and so do we.
    """
    service = await api.service(request.path_params["namespace_id"])
    key = path_key(request)
    query = request.query_params
    expiration, expiration_ttl = query.get("expiration"), query.get("expiration_ttl")
    check_int32_text(expiration)
    check_int32_text(expiration_ttl)
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        value, metadata = await _form_fields(request, content_type)
        await service.put(key, value, expiration=expiration, expiration_ttl=expiration_ttl, metadata=metadata)
    else:
        # The service checks the announced length before reading, then counts as the body streams.
        await service.put(
            key,
            request.stream(),
            expiration=expiration,
            expiration_ttl=expiration_ttl,
            length_hint=declared_length(request),
            drain=False,
        )
    return success({})


async def delete_value(api: ApiContext, request: Request) -> Response:
    """Delete a key (a missing key is no error). Emulates ``workers-kv-namespace-delete-key-value-pair``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/values/methods/delete/
    """
    service = await api.service(request.path_params["namespace_id"])
    await service.delete(path_key(request))
    return success({})
