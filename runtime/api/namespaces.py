"""Namespace endpoints: create, list, get, rename, delete.

https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bindings.errors import NamespaceNotFoundError
from bindings.storage import NamespaceInfo

from .body import read_json
from .context import SOURCE, ApiContext
from .envelope import success
from .query import choice_param, int_param

__all__ = ["create_namespace", "delete_namespace", "get_namespace", "list_namespaces", "rename_namespace"]

MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 20


def namespace_result(info: NamespaceInfo) -> dict[str, Any]:
    # Keys in URLs are always percent-decoded here, which is what this flag promises.
    return {"id": info.id, "title": info.title, "supports_url_encoding": True}


async def _title(request: Request) -> Any:
    body = await read_json(request)
    # A missing title, or a body that is not an object, is the store's "missing title" (10019).
    return body.get("title") if isinstance(body, dict) else None


async def list_namespaces(api: ApiContext, request: Request) -> Response:
    """List namespaces, paged. Emulates ``workers-kv-namespace-list-namespaces``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/list/
    A page past the end is an empty ``result``: the SDK pages until it gets one.
    """
    query = request.query_params
    page = int_param(query, "page", 1, 1, 2**31 - 1)
    per_page = int_param(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    order = choice_param(query, "order", "id", ("id", "title"))
    direction = choice_param(query, "direction", "asc", ("asc", "desc"))
    namespaces = await api.store.list_namespaces()
    namespaces.sort(key=(lambda ns: ns.id) if order == "id" else (lambda ns: (ns.title, ns.id)))
    if direction == "desc":
        namespaces.reverse()
    start = (page - 1) * per_page
    result = [namespace_result(info) for info in namespaces[start : start + per_page]]
    total = len(namespaces)
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(result),
        "total_count": total,
        "total_pages": math.ceil(total / per_page),
    }
    return success(result, info)


async def create_namespace(api: ApiContext, request: Request) -> Response:
    """Create a namespace. Emulates ``workers-kv-namespace-create-a-namespace``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/create/
    """
    title = await _title(request)
    info = await api.store.create_namespace(title)
    if api.changes is not None:
        api.changes.namespace_changed("namespace_create", info.id, info.title, SOURCE)
    return success(namespace_result(info))


async def get_namespace(api: ApiContext, request: Request) -> Response:
    """Get one namespace. Emulates ``workers-kv-namespace-get-a-namespace``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/get/
    """
    namespace_id = request.path_params["namespace_id"]
    info = await api.store.get_namespace(namespace_id)
    if info is None:
        raise NamespaceNotFoundError(namespace_id)
    return success(namespace_result(info))


async def rename_namespace(api: ApiContext, request: Request) -> Response:
    """Rename a namespace. Emulates ``workers-kv-namespace-rename-a-namespace``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/update/
    """
    namespace_id = request.path_params["namespace_id"]
    if await api.store.get_namespace(namespace_id) is None:
        # Checked before the body, so a missing namespace is 10013 whatever the body says.
        raise NamespaceNotFoundError(namespace_id)
    info = await api.store.rename_namespace(namespace_id, await _title(request))
    if api.changes is not None:
        api.changes.namespace_changed("namespace_rename", info.id, info.title, SOURCE)
    return success(namespace_result(info))


async def delete_namespace(api: ApiContext, request: Request) -> Response:
    """Delete a namespace and its keys. Emulates ``workers-kv-namespace-remove-a-namespace``.

    https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/methods/delete/
    """
    namespace_id = request.path_params["namespace_id"]
    info = await api.store.get_namespace(namespace_id) if api.changes is not None else None
    await api.store.delete_namespace(namespace_id)
    api.forget(namespace_id)
    if api.changes is not None:
        api.changes.namespace_changed("namespace_delete", namespace_id, "" if info is None else info.title, SOURCE)
    return success({})
