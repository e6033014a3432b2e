"""``GET /__workerhost/api/namespaces/{id}/stats``: how many keys a namespace holds and how many bytes.

The REST API can list keys but not count them or say how big they are. The count pages through
the namespace with the storage interface every engine has (a list page, then the heads of its keys,
which carry each value's size without loading it), so it works the same on every engine and never
loads a value. It stops at ``COUNT_LIMIT`` keys, and then says so (``complete: false``): a
namespace of a million keys is counted in part rather than for seconds. Expired keys not yet
swept are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bindings.catalog import is_namespace_id
from bindings.errors import NamespaceNotFoundError
from bindings.storage.base import NamespaceStorage

from ..api.envelope import to_api_error
from .access import host_of, refusal

__all__ = ["COUNT_LIMIT", "NamespaceStats", "count_namespace", "namespace_stats"]

COUNT_LIMIT = 100_000
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class NamespaceStats:
    """Live keys, and the bytes of their keys, values and metadata; ``complete`` unless the count stopped."""

    keys: int
    bytes: int
    complete: bool


async def count_namespace(storage: NamespaceStorage, now: float, limit: int = COUNT_LIMIT) -> NamespaceStats:
    """Count the live keys of ``storage`` (and their bytes), up to ``limit`` keys."""
    keys = size = 0
    after: bytes | None = None
    while True:
        rows, more = await storage.list(b"", after, min(_PAGE, limit - keys), now)
        heads = await storage.heads([row[0] for row in rows])
        for (key, _, _), head in zip(rows, heads, strict=True):
            if head is not None:  # deleted since it was listed
                keys += 1
                size += len(key) + head.size + (len(head.metadata.encode("utf-8")) if head.metadata else 0)
        if not more or not rows:
            return NamespaceStats(keys, size, True)
        if keys >= limit:
            return NamespaceStats(keys, size, False)
        after = rows[-1][0]


async def namespace_stats(request: Request) -> Response:
    """``{"keys": n, "bytes": n, "complete": bool}`` for one namespace (a read token will do)."""
    refused = refusal(request, write=False)
    if refused is not None:
        return refused
    host = host_of(request)
    namespace_id = request.path_params["namespace_id"]
    try:
        if not is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        stats = await count_namespace(await host.store.namespace(namespace_id), host.clock.now())
    except Exception as exc:
        error = to_api_error(exc)
        if error is None:
            raise
        return error.response("namespace stats")
    return JSONResponse({"keys": stats.keys, "bytes": stats.bytes, "complete": stats.complete})
