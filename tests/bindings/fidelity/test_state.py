"""A host's fidelity state: one per namespace and settings, none at all while every mode is off."""

from __future__ import annotations

import pytest

from bindings import KVNamespace, ManualClock
from bindings.fidelity import Fidelity, FidelityPlan, FidelitySettings
from bindings.fidelity.service import FidelityService
from bindings.service import KVService
from bindings.storage import NamespaceStorage

pytestmark = pytest.mark.anyio

ID = "0f2ac74b498b48028cb68387c421e279"
OTHER = "1f2ac74b498b48028cb68387c421e279"


def test_every_mode_is_off_by_default() -> None:
    assert FidelitySettings().active is False
    assert FidelitySettings(writes="another_location", cache_ttl=300).active is False  # no mode on
    assert FidelityPlan().active is False


async def test_a_namespace_with_every_mode_off_gets_the_plain_service(storage: NamespaceStorage) -> None:
    fidelity = Fidelity(ManualClock(1000))
    assert fidelity.current(ID) is None
    assert type(KVNamespace(storage, fidelity=fidelity.current(ID)).service) is KVService


async def test_namespaces_share_one_state_per_settings(storage: NamespaceStorage) -> None:
    strict = FidelitySettings(limits="strict")
    fidelity = Fidelity(ManualClock(1000), FidelityPlan(namespaces={ID: strict}))
    assert fidelity.active
    state = fidelity.current(ID)
    assert state is not None and state is fidelity.state(ID, strict)
    assert fidelity.current(OTHER) is None  # the defaults: every mode off
    assert isinstance(KVNamespace(storage, fidelity=state).service, FidelityService)
    fidelity.use(FidelityPlan(defaults=FidelitySettings(rate_limit=True), namespaces={ID: strict}))
    assert fidelity.current(ID) is state  # a reload that keeps the settings keeps the state
    assert fidelity.current(OTHER) is not None
    fidelity.use(FidelityPlan(namespaces={ID: FidelitySettings(limits="strict", rate_limit=True)}))
    assert fidelity.current(ID) is not state
    fidelity.forget(ID)
    assert fidelity.current(ID) is not state


async def test_settle_and_reset_reach_every_namespace(storage: NamespaceStorage) -> None:
    clock = ManualClock(1000)
    settings = FidelitySettings(consistency="eventual", writes="another_location", rate_limit=True)
    fidelity = Fidelity(clock, FidelityPlan(defaults=settings))
    state = fidelity.current(ID)
    assert state is not None
    kv = KVNamespace(storage, clock, fidelity=state)
    await kv.put("k", "v")
    assert await kv.get("k") is None
    fidelity.settle()
    assert await kv.get("k") == "v"
    fidelity.reset()
    await kv.put("k", "again")  # the rate-limit window went with the reset
