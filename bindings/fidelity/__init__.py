"""Production-fidelity modes: catch locally what only production shows (README, "Production fidelity").

    settings.py     FidelitySettings: which modes a namespace runs with, and their defaults
    state.py        NamespaceFidelity (one namespace's state), Fidelity (a host's, by namespace id)
    service.py      FidelityService: the KV service with the modes that are on
    ratelimit.py    rate_limit: one write per second to a key
    edge.py         consistency: eventual: an edge location's cached views, misses included
    listlag.py      consistency: eventual: key lists that lag behind writes
    operations.py   limits: strict: 1,000 KV operations per invocation

Every mode runs on the injected clock, so tests move time instead of sleeping, and nothing is random.
"""

from __future__ import annotations

from .operations import MAX_OPERATIONS, TOO_MANY_OPERATIONS, OperationBudget, invocation
from .settings import FidelitySettings
from .state import Fidelity, FidelityPlan, NamespaceFidelity

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
