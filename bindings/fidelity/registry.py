"""A host's production-fidelity plan and state: which modes each namespace runs with, and its state.

Imported whenever a host starts, so it loads nothing of the modes themselves: a namespace's state
(``state.py`` and the modes under it) is built, and imported, only when a mode is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..clock import Clock
from .settings import FidelitySettings

if TYPE_CHECKING:
    from .state import NamespaceFidelity

__all__ = ["Fidelity", "FidelityPlan"]


@dataclass(frozen=True)
class FidelityPlan:
    """Which settings each namespace runs with: its own if it has some, else the host's defaults."""

    defaults: FidelitySettings = FidelitySettings()
    namespaces: Mapping[str, FidelitySettings] = field(default_factory=lambda: MappingProxyType({}))

    def settings_for(self, namespace_id: str) -> FidelitySettings:
        return self.namespaces.get(namespace_id, self.defaults)

    @cached_property
    def active(self) -> bool:
        """True when some namespace has a mode on (asked on every REST request, so worked out once)."""
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
            from .state import NamespaceFidelity

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
