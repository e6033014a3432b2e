"""Bulk endpoints: write many pairs, delete many keys, read many keys.

https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/bulk_update/ (and
``bulk_delete``, ``bulk_get`` beside it).

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

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bindings.bulk_format import BulkItemError, key_name, pair
from bindings.errors import KVError
from bindings.limits import MAX_BULK_WRITE_BYTES, MAX_BULK_WRITE_PAIRS
from bindings.service import BulkWrite, KVService
from bindings.storage import Write

from .body import parse_json, read_json, read_limited
from .context import ApiContext
from .envelope import CF_VALIDATION, ApiError, success

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


def _pair(index: int, item: Any) -> BulkWrite:
    try:
        return pair(index, item)
    except BulkItemError as exc:
        raise _bad(index, exc.problem) from None


def _prepare(service: KVService, items: list[Any]) -> list[Write]:
    writes = []
    for index, item in enumerate(items):
        wire = _pair(index, item)
        try:
            writes.append(service.prepare(wire))
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


def _key_names(items: list[Any]) -> list[str]:
    # wrangler's bulk delete file may list {"name": key} objects as well as plain strings.
    try:
        return [key_name(index, item) for index, item in enumerate(items)]
    except BulkItemError as exc:
        raise _bad(exc.index, exc.problem) from None


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
