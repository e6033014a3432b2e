"""The REST API app: the route table, and the one wrapper every endpoint runs in.

The host mounts the app at ``/client/v4``, so routes here are relative to it. Each route names
the operation its error messages carry (``get``, ``put``, ``list keys``...) and the permission it
needs; the wrapper checks credentials and the account id before the handler runs (so nothing of
a refused request's body is read), and turns whatever the handler raises into an error envelope.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bindings import Clock, Store
from bindings.changes import ChangeFeed
from bindings.errors import StorageUnavailableError
from bindings.fidelity import Fidelity

from ..config import ApiConfig
from ..loglines import one_line
from . import account, bulk, keys, namespaces, values
from .auth import Access, Authenticator
from .context import ApiContext
from .envelope import (
    CF_INTERNAL,
    CF_METHOD_NOT_ALLOWED,
    CF_NO_ROUTE,
    CF_RATE_LIMITED,
    CF_ROUTE,
    CF_VALIDATION,
    ApiError,
    to_api_error,
)
from .openapi import openapi_document
from .paths import NAMESPACE, NAMESPACES
from .ratelimit import ApiRateLimiter

__all__ = ["ROUTES", "ApiRoute", "create_api"]

logger = logging.getLogger("workerhost.api")

Handler = Callable[[ApiContext, Request], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# Cloudflare's text for a caller over the API's rate limit (README, "Production fidelity").
THROTTLED = "Please wait and consider throttling your request speed"


class _KeyConvertor(Convertor[str]):
    """The rest of the path, newlines included (Starlette's ``path`` stops at one; a key may hold it)."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("kvkey", _KeyConvertor())


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One REST endpoint: where it is, what it runs, how its errors read, who may call it.

    ``access`` None means public (no credentials checked).
    """

    method: str
    path: str
    handler: Handler
    operation: str
    access: Access | None


ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("GET", "/accounts", account.list_accounts, "list accounts", Access.READ),
    ApiRoute("GET", "/memberships", account.list_memberships, "list memberships", Access.READ),
    ApiRoute("GET", "/user/tokens/verify", account.verify_token, "verify token", None),
    ApiRoute("GET", NAMESPACES, namespaces.list_namespaces, "list namespaces", Access.READ),
    ApiRoute("POST", NAMESPACES, namespaces.create_namespace, "create namespace", Access.WRITE),
    ApiRoute("GET", NAMESPACE, namespaces.get_namespace, "get namespace", Access.READ),
    ApiRoute("PUT", NAMESPACE, namespaces.rename_namespace, "rename namespace", Access.WRITE),
    ApiRoute("DELETE", NAMESPACE, namespaces.delete_namespace, "remove namespace", Access.WRITE),
    ApiRoute("GET", NAMESPACE + "/keys", keys.list_keys, "list keys", Access.READ),
    ApiRoute("GET", NAMESPACE + "/values/{key_name:kvkey}", values.get_value, "get", Access.READ),
    ApiRoute("PUT", NAMESPACE + "/values/{key_name:kvkey}", values.put_value, "put", Access.WRITE),
    ApiRoute("DELETE", NAMESPACE + "/values/{key_name:kvkey}", values.delete_value, "remove key", Access.WRITE),
    ApiRoute("GET", NAMESPACE + "/metadata/{key_name:kvkey}", values.get_metadata, "metadata", Access.READ),
    ApiRoute("PUT", NAMESPACE + "/bulk", bulk.bulk_write, "bulk put keys", Access.WRITE),
    ApiRoute("DELETE", NAMESPACE + "/bulk", bulk.bulk_delete, "bulk remove keys", Access.WRITE),
    ApiRoute("POST", NAMESPACE + "/bulk/delete", bulk.bulk_delete, "bulk remove keys", Access.WRITE),
    ApiRoute("POST", NAMESPACE + "/bulk/get", bulk.bulk_get, "bulk get keys", Access.READ),
)


def _route_path(request: Request) -> str:
    # The path below the mount point, as Cloudflare names it in routing errors.
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _route_error(request: Request) -> ApiError:
    message = f"Could not route to {_route_path(request)}, perhaps your object identifier is invalid?"
    return ApiError(400, CF_ROUTE, message, bare=True, more=((CF_NO_ROUTE, "No route for that URI"),))


def _by_method(endpoints: dict[str, Endpoint]) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        return await endpoints["GET" if request.method == "HEAD" else request.method](request)

    return dispatch


def _throttle(api: ApiContext, request: Request) -> None:
    # The user is the credential the request authenticated with; all callers are one while the API is open.
    credential = Authenticator.credential(request.headers) if api.authenticator.enabled else None
    wait = api.rate_limiter.admit(credential)
    if wait is not None:
        retry_after = str(max(1, math.ceil(wait)))
        raise ApiError(429, CF_RATE_LIMITED, THROTTLED, bare=True, headers={"retry-after": retry_after})


def _endpoint(api: ApiContext, route: ApiRoute) -> Endpoint:
    handler, operation, access = route.handler, route.operation, route.access
    limiter = api.rate_limiter

    async def endpoint(request: Request) -> Response:
        try:
            if access is not None:
                api.authenticator.require(request.headers, write=access is Access.WRITE)
                if limiter.enabled:
                    _throttle(api, request)
            account_id = request.path_params.get("account_id")
            if account_id is not None and account_id != api.account_id:
                raise _route_error(request)
            return await handler(api, request)
        except ClientDisconnect:
            return ApiError(400, CF_VALIDATION, "the client closed the request early").response(operation)
        except Exception as exc:
            error = to_api_error(exc)
            if isinstance(exc, StorageUnavailableError):  # the store's server is away: one line, no traceback
                logger.error("%s %s failed: %s", request.method, _route_path(request), exc)
            elif error is None or (error.status >= 500 and not isinstance(exc, ApiError)):
                # A bug or a storage failure, not a refused request: it belongs in the log.
                logger.exception("%s %s failed", request.method, one_line(_route_path(request)))
            if error is None:
                error = ApiError(500, CF_INTERNAL, "internal error")
            return error.response(operation)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and methods get Cloudflare's envelope, not Starlette's plain text.
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError(404, CF_NO_ROUTE, "No route for that URI", bare=True)
    elif exc.status_code == 405:
        error = ApiError(405, CF_METHOD_NOT_ALLOWED, f"Method {request.method} not available for that URI", bare=True)
    else:
        error = ApiError(exc.status_code, CF_VALIDATION, str(exc.detail), bare=True)
    response = error.response()
    response.headers.update(exc.headers or {})
    return response


def create_api(
    store: Store,
    *,
    clock: Clock,
    account_id: str,
    auth: ApiConfig,
    fidelity: Fidelity | None = None,
    rate_limiter: ApiRateLimiter | None = None,
    changes: ChangeFeed | None = None,
) -> Starlette:
    """The Cloudflare v4 REST API for Workers KV, as an ASGI app to mount at ``/client/v4``.

    Args:
        store: the store handlers' bindings use too, so each side sees the other's writes at once.
            Its lifecycle is the caller's: the app never closes it.
        clock: the time expiry is judged by.
        account_id: the account id clients must use in paths (32 hex digits).
        auth: the API tokens; with none, the API is open (see ``runtime.config.exposure``).
        fidelity: the host's production-fidelity state, shared with the handlers' bindings.
        rate_limiter: the REST rate limit (the host's, which follows reloads); by default one on
            this clock, on if ``auth.rate_limit`` says so.
        changes: the host's live feed of changes, told of every write made through the API.
    """
    limiter = rate_limiter or ApiRateLimiter(clock, enabled=auth.rate_limit)
    api = ApiContext(store, clock, account_id, Authenticator(auth), fidelity, limiter, changes)
    by_path: dict[str, dict[str, Endpoint]] = {}
    for route in ROUTES:
        by_path.setdefault(route.path, {})[route.method] = _endpoint(api, route)
    # One Route per path, so a 405's Allow header lists every method the path has.
    routes = [Route(path, _by_method(endpoints), methods=list(endpoints)) for path, endpoints in by_path.items()]
    document = JSONResponse(openapi_document(account_id)).body  # rendered once

    async def serve_openapi(request: Request) -> Response:
        """The OpenAPI 3 document of this API (public: it holds nothing secret)."""
        return Response(document, media_type="application/json")

    routes.append(Route("/openapi.json", serve_openapi, methods=["GET"]))
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
