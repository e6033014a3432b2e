"""Expiry on Redis: judged by the caller's clock, as on SQLite; Redis's own TTLs only collect garbage,
a margin after the expiration, and an entry Redis dropped by itself is never listed without its value."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bindings.storage import Write
from bindings.storage.redis import RedisStore
from bindings.storage.redis.keys import NamespaceKeys
from bindings.storage.redis.namespace import LIST_BUDGET, RedisNamespace
from tests.redis_support import RedisServer

pytestmark = pytest.mark.anyio

MARGIN = 600


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis(port=redis_server.port)
    yield client
    await client.aclose()


@pytest.fixture
async def margined(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(f"{redis_server.location()}&ttl_margin={MARGIN}")
    yield store
    await store.close()


def _entry(store: RedisStore, storage: RedisNamespace, key: bytes) -> bytes:
    keys = NamespaceKeys.of(store.settings.prefix, storage.id).generation(storage.generation)
    return keys.entry(key)


async def test_redis_drops_an_entry_only_a_margin_after_it_expired(margined: RedisStore, raw: Redis) -> None:
    storage = await margined.namespace((await margined.create_namespace("ttl")).id)
    expires = int(time.time()) + 120
    await storage.put(b"expiring", b"v", expires, None)
    await storage.put(b"forever", b"v", None, None)
    await storage.put(b"judged by a clock in 1970", b"v", 1000, None)
    ttl = await raw.ttl(_entry(margined, storage, b"expiring"))
    assert expires + MARGIN - time.time() - 5 <= ttl <= expires + MARGIN - time.time() + 1
    assert await raw.ttl(_entry(margined, storage, b"forever")) == -1  # no TTL
    # Long expired by the wall clock: Redis must not drop it, since workerhost's clock decides.
    assert await raw.ttl(_entry(margined, storage, b"judged by a clock in 1970")) == -1
    assert await storage.get(b"judged by a clock in 1970") is not None
    await storage.put(b"expiring", b"rewritten without an expiration", None, None)
    assert await raw.ttl(_entry(margined, storage, b"expiring")) == -1


async def test_an_entry_redis_dropped_is_never_listed_and_the_sweep_tidies_its_index(
    margined: RedisStore, raw: Redis
) -> None:
    storage = await margined.namespace((await margined.create_namespace("dropped")).id)
    expires = int(time.time()) + 60
    await storage.put_many([Write(b"a", b"v"), Write(b"b", b"v", expires), Write(b"c", b"v")])
    await raw.unlink(_entry(margined, storage, b"b"))  # what its TTL does, a margin after it expired
    # A clock running behind the server's by more than the margin still sees a consistent namespace.
    rows, more = await storage.list(b"", None, 10, expires - 10)
    assert [row[0] for row in rows] == [b"a", b"c"] and not more
    assert await storage.get(b"b") is None and await storage.heads([b"b"]) == [None]
    assert await storage.purge_expired(expires + MARGIN + 1, 100) == 1  # its index entry goes too
    assert await storage.purge_expired(expires + MARGIN + 1, 100) == 0


async def test_listing_walks_past_any_number_of_dead_keys_in_bounded_steps(store: RedisStore) -> None:
    storage = await store.namespace((await store.create_namespace("graveyard")).id)
    dead = 2 * LIST_BUDGET + 500
    for start in range(0, dead, 5000):
        await storage.put_many([Write(f"d{i:06}".encode(), b"", 100) for i in range(start, min(start + 5000, dead))])
    await storage.put_many([Write(b"a-live", b"v"), Write(b"z-live", b"v"), Write(b"zz-live", b"v")])
    rows, more = await storage.list(b"", None, 1, 1000)
    assert [row[0] for row in rows] == [b"a-live"] and more
    rows, more = await storage.list(b"", b"a-live", 1, 1000)
    assert [row[0] for row in rows] == [b"z-live"] and more  # found past 20,500 dead keys
    rows, more = await storage.list(b"", b"z-live", 5, 1000)
    assert [row[0] for row in rows] == [b"zz-live"] and not more
    rows, more = await storage.list(b"d", None, 5, 1000)
    assert rows == [] and not more
