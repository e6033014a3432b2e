"""Which production-fidelity modes a namespace runs with, and their defaults (README, "Production fidelity").

Every mode is off by default: a namespace then behaves as Miniflare's does, strongly consistent and
without limits, and pays nothing for the modes (``FidelitySettings.active`` is False, so no fidelity
layer is built at all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..limits import MIN_CACHE_TTL

__all__ = [
    "CONSISTENCY",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_LIST_LAG",
    "DEFAULT_NEGATIVE_TTL",
    "LIMITS",
    "MIN_CACHE_TTL",
    "WRITES",
    "Consistency",
    "FidelitySettings",
    "Limits",
    "WritesAt",
]

Consistency = Literal["strong", "eventual"]
WritesAt = Literal["same_location", "another_location"]
Limits = Literal["off", "strict"]
CONSISTENCY: tuple[Consistency, ...] = ("strong", "eventual")
WRITES: tuple[WritesAt, ...] = ("same_location", "another_location")
LIMITS: tuple[Limits, ...] = ("off", "strict")

# "60 is the default" cacheTtl (https://developers.cloudflare.com/kv/api/read-key-value-pairs/); changes
# elsewhere "may take up to 60 seconds or more to be visible" (https://developers.cloudflare.com/kv/concepts/how-kv-works/),
# negative lookups and key lists included.
DEFAULT_CACHE_TTL = 60
DEFAULT_NEGATIVE_TTL = 60
DEFAULT_LIST_LAG = 60


@dataclass(frozen=True, slots=True)
class FidelitySettings:
    """The modes of one namespace. Frozen and hashable: equal settings share their state.

    Attributes:
        rate_limit: at most one write per second to a key; more is ``KV PUT failed: 429 Too Many Requests``.
        consistency: ``"eventual"`` reads through a simulated edge location's cache; ``"strong"`` does not.
        writes: with eventual consistency, where the handlers' own writes land: at the location they
            read from (``"same_location"``: they see them at once) or at another one (they do not).
        cache_ttl: seconds a read without ``cacheTtl`` may serve a cached value (at least 30).
        negative_ttl: seconds a missing key stays missing at the location after it was looked up.
        list_lag: seconds before a write shows in ``list()`` results.
        limits: ``"strict"`` holds each invocation to production's 1,000 KV operations.
    """

    rate_limit: bool = False
    consistency: Consistency = "strong"
    writes: WritesAt = "same_location"
    cache_ttl: int = DEFAULT_CACHE_TTL
    negative_ttl: int = DEFAULT_NEGATIVE_TTL
    list_lag: int = DEFAULT_LIST_LAG
    limits: Limits = "off"

    @property
    def eventual(self) -> bool:
        return self.consistency == "eventual"

    @property
    def strict_limits(self) -> bool:
        return self.limits == "strict"

    @property
    def active(self) -> bool:
        """True when any mode is on, i.e. the namespace needs a fidelity layer."""
        return self.rate_limit or self.eventual or self.strict_limits

    def describe(self) -> str:
        """The modes that are on, in kv.yaml's words (``"rate_limit, consistency: eventual"``); empty if none."""
        modes = []
        if self.rate_limit:
            modes.append("rate_limit")
        if self.eventual:
            modes.append(f"consistency: eventual (writes: {self.writes}, cache_ttl: {self.cache_ttl})")
        if self.strict_limits:
            modes.append("limits: strict")
        return ", ".join(modes)
