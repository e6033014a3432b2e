"""What the dashboard needs of the host, and who may use its endpoints.

The dashboard's own endpoints take the REST API's tokens exactly as the API does (README "REST
API"): with tokens configured, reading needs a read or write token and writing a write token,
refused with the API's 401 and 403 envelopes; without tokens (loopback only) they are open.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, cast

from starlette.requests import Request
from starlette.responses import Response

from bindings import Clock, Store
from bindings.changes import ChangeFeed

from ..api.auth import Access, Authenticator
from ..api.envelope import ApiError
from ..config import ApiConfig, RuntimeConfig

__all__ = ["DashboardHost", "access_of", "host_of", "refusal"]


class DashboardHost(Protocol):
    """The host, as the dashboard sees it (``runtime.host.state.Host`` is one)."""

    config: RuntimeConfig
    clock: Clock
    changes: ChangeFeed | None

    @property
    def store(self) -> Store: ...


def host_of(request: Request) -> DashboardHost:
    """The host serving ``request`` (the app keeps it in ``state.host``)."""
    return cast(DashboardHost, request.app.state.host)


@lru_cache(maxsize=8)
def _authenticator(api: ApiConfig) -> Authenticator:
    return Authenticator(api)


def access_of(request: Request) -> Access:
    """What the request's credential allows: WRITE for everyone while no tokens are configured."""
    authenticator = _authenticator(host_of(request).config.api)
    if not authenticator.enabled:
        return Access.WRITE
    return authenticator.access(Authenticator.credential(request.headers))


def refusal(request: Request, *, write: bool) -> Response | None:
    """The API's 401 / 403 if the request may not read (or write); None if it may."""
    try:
        _authenticator(host_of(request).config.api).require(request.headers, write=write)
    except ApiError as refused:
        return refused.response()
    return None
