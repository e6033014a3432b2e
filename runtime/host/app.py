"""The host's ASGI app: worker routes first, then the REST API, then the host's own routes.

``create_app(config)`` builds it. Worker routes are dispatched by a thin ASGI layer in front of
Starlette (a dict lookup plus a few prefix checks, compiled per version); only the host's own routes
(``/__workerhost/...``, ``/__scheduled``, the REST API mounted through ``extra_routes``) and the 404
go through Starlette's router. The lifespan starts and stops the ``Host`` (``state.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bindings.clock import Clock
from bindings.storage.base import Store

from ..config import RuntimeConfig
from ..config.routes import RESERVED_PREFIXES
from .assets import AssetServer
from .devroutes import dev_routes, not_found
from .dispatch import dispatch
from .reload import ChangeSource
from .state import Host

__all__ = ["API_PREFIX", "Host", "HostApp", "create_app"]


API_PREFIX = "/client/v4"


class HostApp(Starlette):
    """The ASGI app: the REST API and worker routes first (a thin layer), then Starlette's routes.

    The REST API is dispatched by prefix rather than with Starlette's ``Mount``, whose path pattern
    stops at an encoded newline, which a KV key may hold.
    """

    def __init__(
        self, host: Host, routes: Sequence[BaseRoute], reserved: tuple[str, ...], api: ASGIApp | None, **kwargs: Any
    ) -> None:
        super().__init__(routes=routes, **kwargs)
        # Not ``self.host``: that is Starlette's method for adding a Host route.
        self.workerhost = host
        self.state.host = host
        self._reserved = reserved + ((API_PREFIX + "/",) if api is not None else ())
        self._api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            host = self.workerhost
            version = host.version
            if version is not None and not path.startswith(self._reserved):
                worker = version.router.match(path, scope)
                if worker is not None:
                    scope["app"] = self
                    if worker.assets is None or not await serve_asset(worker.assets, scope, receive, send, host):
                        await dispatch(worker, scope, receive, send, host.debug, host.request_log)
                    return
            if self._api is not None and path.startswith(API_PREFIX + "/"):
                api_scope = {**scope, "root_path": scope.get("root_path", "") + API_PREFIX}
                await self._logged(api_scope, receive, send, self._api)
                return
            await self._logged(scope, receive, send, super().__call__)
            return
        await super().__call__(scope, receive, send)

    async def _logged(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        started = perf_counter()
        status = 500

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        finally:
            self.workerhost.request_log.log(scope["method"], scope["path"], status, started)


async def serve_asset(server: AssetServer, scope: Scope, receive: Receive, send: Send, host: Host) -> bool:
    """Answer from the worker's assets when they come first (README "Bring a Cloudflare project"); False if not."""
    started = perf_counter()
    raw = scope.get("raw_path")
    raw_path = raw.decode("latin-1").partition("?")[0] if raw else quote(scope["path"])
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    query = scope.get("query_string", b"").decode("latin-1")
    response = await server.before_worker(scope["method"], raw_path, query, headers)
    if response is None:
        return False
    await response(scope, receive, send)
    host.request_log.log(scope["method"], scope["path"], response.status_code, started)
    return True


def _reserved_prefixes(extra_routes: Sequence[BaseRoute]) -> tuple[str, ...]:
    prefixes = list(RESERVED_PREFIXES)
    for route in extra_routes:
        path = getattr(route, "path", "")
        if isinstance(route, Mount | Route) and path:
            prefixes.append(path.split("{", 1)[0])
    return tuple(prefixes)


def create_app(
    config: RuntimeConfig,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    change_source: ChangeSource | None = None,
    debug: bool = True,
    api: bool = True,
    crons: bool = True,
    throwaway: bool = False,
) -> HostApp:
    """Build the host's Starlette app for ``config``.

    Args:
        store: inject a KV store (tests, the pytest plugin); by default the one at ``config.storage``.
        clock: inject a clock (e.g. ``bindings.ManualClock``) for KV expiry and crons.
        extra_routes: more Starlette routes, e.g. ``Mount("/client/v4", api_app)``; their paths take
            precedence over worker routes.
        change_source: a hot-reload change source (e.g. ``runtime.host.reload.QueueSource`` in tests).
        debug: show tracebacks on handler errors.
        api: serve Cloudflare's KV REST API at ``/client/v4`` on the same store.
        crons: run cron triggers on their schedule (off: only when asked, as the pytest plugin does).
        throwaway: the store lives for a test session only, so its durability is not warned about.
    """
    host = Host(
        config, store=store, clock=clock, change_source=change_source, debug=debug, crons=crons, throwaway=throwaway
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await host.start()
        try:
            yield
        finally:
            await host.stop()

    routes = [*dev_routes(), *extra_routes]
    return HostApp(
        host,
        routes,
        _reserved_prefixes(extra_routes),
        _BuiltOnFirstUse(lambda: _api_app(host)) if api else None,
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )


def _api_app(host: Host) -> ASGIApp:
    from ..api import create_api

    return create_api(
        host.store,
        clock=host.clock,
        account_id=host.config.account_id,
        auth=host.config.api,
        fidelity=host.fidelity,
        rate_limiter=host.api_rate_limiter,
    )


class _BuiltOnFirstUse:
    """An ASGI app built when its first request comes: the REST API is not needed to serve handlers,
    so ``workerhost dev`` does not import it before its first response."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)
