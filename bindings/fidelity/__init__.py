"""Production-fidelity modes: catch locally what only production shows (README, "Production fidelity").

    settings.py     FidelitySettings: which modes a namespace runs with, and their defaults
    registry.py     FidelityPlan (each namespace's settings), Fidelity (a host's state, by namespace id)
    state.py        NamespaceFidelity: one namespace's state
    service.py      FidelityService: the KV service with the modes that are on
    ratelimit.py    rate_limit: one write per second to a key
    edge.py         consistency: eventual: an edge location's cached views, misses included
    listlag.py      consistency: eventual: key lists that lag behind writes
    operations.py   limits: strict: 1,000 KV operations per invocation

Every mode runs on the injected clock, so tests move time instead of sleeping, and nothing is random.

``NamespaceFidelity`` loads on first use: a host with every mode off never imports the modes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .operations import MAX_OPERATIONS, TOO_MANY_OPERATIONS, OperationBudget, invocation
from .registry import Fidelity, FidelityPlan
from .settings import FidelitySettings

if TYPE_CHECKING:
    from .state import NamespaceFidelity

__all__ = [
    "MAX_OPERATIONS",
    "TOO_MANY_OPERATIONS",
    "Fidelity",
    "FidelityPlan",
    "FidelitySettings",
    "NamespaceFidelity",
    "OperationBudget",
    "invocation",
]


def __getattr__(name: str) -> Any:
    if name == "NamespaceFidelity":
        from .state import NamespaceFidelity

        return NamespaceFidelity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
