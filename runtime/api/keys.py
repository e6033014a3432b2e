"""The key listing endpoint.

https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/keys/methods/list/
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bindings.limits import MAX_LIST_LIMIT

from .context import ApiContext
from .envelope import success
from .query import int_param

__all__ = ["MIN_LIST_LIMIT", "list_keys"]

# The REST API's own floor (Cloudflare's OpenAPI schema: minimum 10); the binding allows 1.
MIN_LIST_LIMIT = 10


async def list_keys(api: ApiContext, request: Request) -> Response:
    """List a page of keys. Emulates ``workers-kv-namespace-list-a-namespace'-s-keys``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/subresources/keys/methods/list/
    ``result_info.cursor`` is ``""`` on the last page: wrangler and the SDK page until it is empty.
    """
    service = await api.service(request.path_params["namespace_id"])
    query = request.query_params
    limit = int_param(query, "limit", MAX_LIST_LIMIT, MIN_LIST_LIMIT, MAX_LIST_LIMIT)
    page = await service.list(query.get("prefix"), limit, query.get("cursor") or None)
    keys = [key.to_dict() for key in page.keys]
    return success(keys, {"count": len(keys), "cursor": page.cursor or ""})
