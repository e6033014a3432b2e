"""The production-fidelity state of a host: per namespace, shared by everything that serves it.

A namespace's rate-limit windows, edge views and list lag belong to the namespace, not to one
binding object: a handler's binding, a test's call to it and the REST API all meet the same state,
and it outlives reloads (each reload builds new bindings on the same state). ``Fidelity`` hands
out that state by namespace id under the current plan, and can settle or reset all of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..clock import Clock
from ..service import KVService
from ..storage.base import NamespaceStorage
from .edge import EdgeViews
from .listlag import ListLag
from .ratelimit import WriteRateLimiter
from .service import FidelityService
from .settings import FidelitySettings

__all__ = ["Fidelity", "FidelityPlan", "NamespaceFidelity"]


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


@dataclass(frozen=True)
class FidelityPlan:
    """Which settings each namespace runs with: its own if it has some, else the host's defaults."""

    defaults: FidelitySettings = FidelitySettings()
    namespaces: Mapping[str, FidelitySettings] = field(default_factory=lambda: MappingProxyType({}))

    def settings_for(self, namespace_id: str) -> FidelitySettings:
        return self.namespaces.get(namespace_id, self.defaults)

    @property
    def active(self) -> bool:
        """True when some namespace has a mode on."""
        return self.defaults.active or any(settings.active for settings in self.namespaces.values())


class Fidelity:
    """The fidelity state of every namespace of one host, handed out by namespace id.

    States are kept per (namespace, settings), so a reload that leaves a namespace's settings alone
    keeps its state, and one that changes them starts it afresh.
    """

    def __init__(self, clock: Clock, plan: FidelityPlan | None = None) -> None:
        self.clock = clock
        self.plan = plan or FidelityPlan()
        self._states: dict[tuple[str, FidelitySettings], NamespaceFidelity] = {}

    @property
    def active(self) -> bool:
        """Whether the current plan has any mode on; when not, nothing needs a state."""
        return self.plan.active

    def use(self, plan: FidelityPlan) -> None:
        """Serve by ``plan`` from now on (a reload's new config)."""
        self.plan = plan

    def state(self, namespace_id: str, settings: FidelitySettings) -> NamespaceFidelity | None:
        """The state of a namespace under ``settings``; None when they have every mode off."""
        if not settings.active:
            return None
        key = (namespace_id, settings)
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = NamespaceFidelity(settings, self.clock)
        return state

    def current(self, namespace_id: str) -> NamespaceFidelity | None:
        """The state of a namespace under the current plan; None when its modes are all off."""
        return self.state(namespace_id, self.plan.settings_for(namespace_id))

    def settle(self) -> None:
        """Make every namespace consistent at once (``workerhost.settle()`` in tests)."""
        for state in self._states.values():
            state.settle()

    def reset(self) -> None:
        """Forget all state, rate-limit windows included."""
        for state in self._states.values():
            state.reset()

    def forget(self, namespace_id: str) -> None:
        """Drop the state of a deleted namespace."""
        for key in [key for key in self._states if key[0] == namespace_id]:
            del self._states[key]
