"""Bulk endpoints: write many pairs, delete many keys, read many keys (KV-SPEC.md §3.2 rows 11–14).

Writes and deletes are all or nothing. Every pair of a bulk write is checked first, each exactly
as a single write would be (``KVService.prepare``), and only then are they all stored in one
atomic ``put_many``. A pair that fails refuses the whole request with that pair's own error and
nothing is stored; the error's ``source.pointer`` (``/3``) names the pair. ``unsuccessful_keys``
is therefore always empty here: Cloudflare lists there the keys that "were not written
successfully to all storage backends and should be retried", a failure one atomic commit
cannot have. (Miniflare's production-matching explorer also refuses invalid bulk requests
outright, and wrangler ignores ``unsuccessful_keys``: a partial success would read as success.)
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bindings.errors import KVError
from bindings.limits import MAX_BULK_WRITE_BYTES, MAX_BULK_WRITE_PAIRS
from bindings.service import BulkWrite, KVService
from bindings.storage import Write

from .body import parse_json, read_json, read_limited
from .context import ApiContext
from .envelope import CF_VALIDATION, ApiError, success
from .query import check_int32

__all__ = ["bulk_delete", "bulk_get", "bulk_write"]

# 10,000 keys of 512 bytes, each \u-escaped at worst, with room to spare.
MAX_BULK_DELETE_BYTES = 64 * 1024 * 1024


def _bad(index: int, problem: str) -> ApiError:
    return ApiError(400, CF_VALIDATION, f"Invalid item at index {index}: {problem}", pointer=f"/{index}")


def _array(body: Any, what: str) -> list[Any]:
    if not isinstance(body, list):
        raise ApiError(400, CF_VALIDATION, f"The request body must be a JSON array of {what}")
    if len(body) > MAX_BULK_WRITE_PAIRS:
        raise ApiError(400, CF_VALIDATION, f"You can send a maximum of {MAX_BULK_WRITE_PAIRS} {what} per request")
    return body


def _wire_number(index: int, item: dict[str, Any], name: str) -> str | None:
    """A numeric option as the service expects it: the text a query string would carry (JS ``String(n)``)."""
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(index, f'"{name}" must be a number')
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        text = str(int(value))
    else:
        text = str(value)
    try:
        check_int32(text)
    except KVError as exc:
        raise _bad(index, f'"{name}": {exc.message}') from None
    return text


def _value_bytes(index: int, value: str, encoded: bool) -> bytes:
    if not encoded:
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(index, '"value" is not valid Unicode (it has a lone surrogate)') from None
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(index, '"value" is not valid base64 (and "base64" is true)') from None


def _pair(index: int, item: Any) -> BulkWrite:
    """One item of a bulk write in wire form; its shape is checked here, its KV limits by the service."""
    if not isinstance(item, dict):
        raise _bad(index, 'each item must be an object with "key" and "value"')
    key, value, encoded = item.get("key"), item.get("value"), item.get("base64", False)
    if not isinstance(key, str):
        raise _bad(index, '"key" must be a string')
    if not isinstance(value, str):
        raise _bad(index, '"value" must be a string')
    if not isinstance(encoded, bool):
        raise _bad(index, '"base64" must be a boolean')
    metadata = item.get("metadata")
    return BulkWrite(
        key,
        _value_bytes(index, value, encoded),
        _wire_number(index, item, "expiration"),
        _wire_number(index, item, "expiration_ttl"),
        None if metadata is None else json.dumps(metadata, ensure_ascii=False, separators=(",", ":")),
    )


def _prepare(service: KVService, items: list[Any]) -> list[Write]:
    writes = []
    for index, item in enumerate(items):
        pair = _pair(index, item)
        try:
            writes.append(service.prepare(pair))
        except KVError as exc:
            raise ApiError(exc.status, exc.code or CF_VALIDATION, exc.message, pointer=f"/{index}") from None
    return writes


async def bulk_write(api: ApiContext, request: Request) -> Response:
    """Write up to 10,000 pairs atomically. Emulates ``workers-kv-namespace-write-multiple-key-value-pairs``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/bulk_update/
    Items are ``{key, value, expiration?, expiration_ttl?, metadata?, base64?}``; the body may be
    at most 100 MB and is refused as soon as it is known to be larger.
    """
    service = await api.service(request.path_params["namespace_id"])
    items = _array(parse_json(await read_limited(request, MAX_BULK_WRITE_BYTES)), "key-value pairs")
    writes = _prepare(service, items)
    await service.put_many(writes)
    return success({"successful_key_count": len(writes), "unsuccessful_keys": []})


def _key_names(items: list[Any]) -> list[Any]:
    # wrangler's bulk delete file may list {"name": key} objects as well as plain strings.
    names = []
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise _bad(index, 'each item must be a key name (a string, or an object with a "name" string)')
        names.append(name)
    return names


async def bulk_delete(api: ApiContext, request: Request) -> Response:
    """Delete up to 10,000 keys atomically.

    Emulates ``workers-kv-namespace-delete-multiple-key-value-pairs`` (``POST /bulk/delete``) and
    its deprecated twin ``DELETE /bulk``, which wrangler still uses.
    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/bulk_delete/
    """
    service = await api.service(request.path_params["namespace_id"])
    names = _key_names(_array(parse_json(await read_limited(request, MAX_BULK_DELETE_BYTES)), "keys"))
    await service.delete_many(names)
    return success({"successful_key_count": len(names), "unsuccessful_keys": []})


async def bulk_get(api: ApiContext, request: Request) -> Response:
    """Read up to 100 text or JSON values. Emulates ``workers-kv-namespace-get-multiple-key-value-pairs``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/bulk_get/
    Body ``{"keys": [...], "type": "text"|"json", "withMetadata": bool}``; a binary value is refused
    (10029), and with metadata each value is ``{value, metadata, expiration?}``.
    """
    service = await api.service(request.path_params["namespace_id"])
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
        raise ApiError(400, CF_VALIDATION, 'The request body must be an object with a "keys" array')
    with_metadata = body.get("withMetadata", False)
    if not isinstance(with_metadata, bool):
        raise ApiError(400, CF_VALIDATION, '"withMetadata" must be a boolean')
    values = await service.get_bulk(
        body["keys"], body.get("type"), with_metadata=with_metadata, with_expiration=True, strict_text=True
    )
    if with_metadata:
        values = {key: None if value is None else value.to_dict() for key, value in values.items()}
    return success({"values": values})
