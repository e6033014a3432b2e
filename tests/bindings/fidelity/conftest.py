"""Fixtures for the production-fidelity modes: one namespace on every engine, served in both roles.

``served(**modes)`` gives the namespace's binding (the handlers' role: reads at the simulated edge
location) and its REST-role service (reads the store itself), sharing one fidelity state, as a
host's bindings and REST API do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bindings import KVNamespace, ManualClock, Store
from bindings.fidelity import FidelitySettings, NamespaceFidelity
from bindings.service import KVService
from bindings.storage import NamespaceStorage


@dataclass
class Served:
    """One namespace with its fidelity modes: the binding, the REST role's service, the shared state."""

    kv: KVNamespace
    rest: KVService
    state: NamespaceFidelity
    storage: NamespaceStorage
    clock: ManualClock

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


@pytest.fixture
async def storage(store: Store) -> NamespaceStorage:
    info = await store.create_namespace("fidelity")
    return await store.namespace(info.id)


@pytest.fixture
def served(storage: NamespaceStorage, clock: ManualClock) -> Callable[..., Served]:
    def serve(**modes: Any) -> Served:
        state = NamespaceFidelity(FidelitySettings(**modes), clock)
        kv = KVNamespace(storage, clock, name="KV", fidelity=state)
        return Served(kv, state.service(storage, edge=False), state, storage, clock)

    return serve
