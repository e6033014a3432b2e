"""The background sweep: expired entries go from every namespace without anyone reading them."""

from __future__ import annotations

import asyncio

import pytest

from bindings import KVNamespace, ManualClock, Store
from bindings.sweeper import sweep_forever

pytestmark = pytest.mark.anyio


async def test_background_sweep_purges_without_reads(store: Store, clock: ManualClock) -> None:
    info = await store.create_namespace("ns")
    storage = await store.namespace(info.id)
    await KVNamespace(storage, clock).put("key", "value", expiration_ttl=60)
    clock.advance(61)
    sweep = asyncio.create_task(sweep_forever(store, clock, interval=0.01))
    try:
        for _ in range(500):  # real time only paces the sweep; expiry is decided by the clock above
            if await storage.get(b"key") is None:  # an engine returns expired entries until deleted
                break
            await asyncio.sleep(0.01)
        assert await storage.get(b"key") is None
    finally:
        sweep.cancel()
