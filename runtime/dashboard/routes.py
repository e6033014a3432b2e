"""The dashboard's routes under ``/__workerhost/``; each endpoint's module is imported on its first request,
so serving workers never pays for the dashboard."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

__all__ = ["API", "PAGE", "dashboard_routes"]

PAGE = "/__workerhost/"
API = "/__workerhost/api"
_NAMESPACE = API + "/namespaces/{namespace_id}"

Endpoint = Callable[[Request], Awaitable[Response]]


def _lazy(module: str, name: str) -> Endpoint:
    loaded: list[Endpoint] = []

    async def endpoint(request: Request) -> Response:
        if not loaded:
            loaded.append(getattr(importlib.import_module(f"{__package__}.{module}"), name))
        return await loaded[0](request)

    return endpoint


async def _to_page(request: Request) -> Response:
    return RedirectResponse(PAGE, status_code=308)


def dashboard_routes() -> list[Route]:
    """The dashboard's page, scripts and API, to mount beside the dev routes."""
    return [
        Route(PAGE, _lazy("page", "serve_page"), methods=["GET"]),
        Route(PAGE + "index.html", _to_page, methods=["GET"]),
        Route(PAGE + "assets/{name}", _lazy("page", "serve_asset"), methods=["GET"]),
        Route(API + "/session", _lazy("session", "session"), methods=["GET"]),
        Route(API + "/changes", _lazy("feed", "changes"), methods=["GET"]),
        Route(_NAMESPACE + "/stats", _lazy("stats", "namespace_stats"), methods=["GET"]),
        Route(_NAMESPACE + "/export", _lazy("transfer", "export_namespace"), methods=["GET"]),
        Route(_NAMESPACE + "/import", _lazy("transfer", "import_namespace"), methods=["POST"]),
    ]
