"""The production-fidelity state of one namespace, shared by everything that serves it.

A namespace's rate-limit windows, edge views and list lag belong to the namespace, not to one
binding object: a handler's binding, a test's call to it and the REST API all meet the same state,
and it outlives reloads (each reload builds new bindings on the same state). ``registry.Fidelity``
hands it out by namespace id.
"""

from __future__ import annotations

from ..clock import Clock
from ..service import KVService
from ..storage.base import NamespaceStorage
from .edge import EdgeViews
from .listlag import ListLag
from .ratelimit import WriteRateLimiter
from .service import FidelityService
from .settings import FidelitySettings

__all__ = ["NamespaceFidelity"]


class NamespaceFidelity:
    """The fidelity state of one namespace under one set of settings (which must have a mode on).

    Args:
        settings: the namespace's modes.
        clock: the injected clock every mode judges time by.
    """

    def __init__(self, settings: FidelitySettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.rate_limiter = WriteRateLimiter(clock) if settings.rate_limit else None
        self.views = EdgeViews(clock, settings.negative_ttl) if settings.eventual else None
        self.list_lag = ListLag(clock, settings.list_lag) if settings.eventual else None

    def service(self, storage: NamespaceStorage, *, edge: bool) -> KVService:
        """The KV service over ``storage`` with these modes: ``edge`` for bindings, not for the REST API."""
        return FidelityService(storage, self.clock, self, edge=edge)

    def settle(self) -> None:
        """Make everything consistent: the edge location forgets its views, lists catch up."""
        if self.views is not None:
            self.views.clear()
        if self.list_lag is not None:
            self.list_lag.clear()

    def reset(self) -> None:
        """Forget everything, rate-limit windows included, as if nothing had been written yet."""
        self.settle()
        if self.rate_limiter is not None:
            self.rate_limiter.clear()

    def __repr__(self) -> str:
        return f"NamespaceFidelity({self.settings.describe()})"
