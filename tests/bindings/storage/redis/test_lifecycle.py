"""Namespace lifecycle on Redis: deleting is atomic, a deleted namespace never takes a write, and a namespace
deleted and created again with the same id, from any host, starts empty and loses no acknowledged write.

Each host is a store of its own on the same server and prefix. A host that stopped between two steps
of a create or a delete is played by running those steps alone (the real scripts, on the real server).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bindings import NamespaceNotFoundError
from bindings.storage import Write
from bindings.storage.redis import RedisStore
from bindings.storage.redis.location import parse_redis_location
from tests.redis_support import RedisCluster, RedisServer

pytestmark = pytest.mark.anyio

FIXED_ID = "0f2ac74b498b48028cb68387c421e279"


@pytest.fixture
async def other(location: str) -> AsyncIterator[RedisStore]:
    """A second host on the same location."""
    store = RedisStore(location)
    yield store
    await store.close()


async def _keys_of(server: RedisServer, location: str) -> list[bytes]:
    prefix = parse_redis_location(location).prefix
    client = Redis(port=server.port)
    try:
        return sorted([key async for key in client.scan_iter(match=f"{{{prefix}*")])
    finally:
        await client.aclose()


async def test_a_write_through_a_handle_of_a_deleted_namespace_is_refused(store: RedisStore, other: RedisStore) -> None:
    info = await store.create_namespace("doomed")
    handle = await store.namespace(info.id)
    await handle.put(b"kept?", b"v", None, None)
    await other.delete_namespace(info.id)
    for write in (
        handle.put(b"k", b"v", None, None),
        handle.put_many([Write(b"a", b"1"), Write(b"b", b"2")]),
        handle.delete(b"kept?"),
        handle.get(b"kept?"),
        handle.list(b"", None, 10, 0),
    ):
        with pytest.raises(NamespaceNotFoundError):
            await write
    assert await store.list_namespaces() == [] and await other.list_namespaces() == []


async def test_delete_and_create_again_from_another_host_starts_empty_and_follows_the_id(
    store: RedisStore, other: RedisStore
) -> None:
    await store.create_namespace("first life", FIXED_ID)
    old = await store.namespace(FIXED_ID)
    await old.put_many([Write(f"old{i}".encode(), b"v") for i in range(50)])
    await other.delete_namespace(FIXED_ID)
    await other.create_namespace("second life", FIXED_ID)
    # A handle from the first life reads and writes the second one: never the deleted keys.
    assert await old.get(b"old0") is None
    assert await old.list(b"", None, 100, 0) == ([], False)
    await old.put(b"new", b"acknowledged", None, None)
    there = await other.namespace(FIXED_ID)
    entry = await there.get(b"new")
    assert entry is not None and entry.value == b"acknowledged"
    assert [row[0] for row in (await there.list(b"", None, 100, 0))[0]] == [b"new"]


async def test_writes_racing_a_delete_and_create_again_lose_nothing_and_resurrect_nothing(
    store: RedisStore, other: RedisStore
) -> None:
    info = await store.create_namespace("racing", FIXED_ID)
    handle = await store.namespace(info.id)
    phase = "before"  # then "between" (the delete and the create are under way), then "after"
    acknowledged: dict[bytes, str] = {}  # key -> the phase its write was acknowledged in

    async def writer(number: int) -> None:
        for i in range(300):
            key, began = f"w{number}-{i}".encode(), phase
            try:
                await handle.put(key, b"v", None, None)
            except NamespaceNotFoundError:
                continue  # the namespace did not exist at that moment: nothing stored
            acknowledged[key] = phase if began == phase else "between"
            await asyncio.sleep(0)

    async def delete_then_create() -> None:
        nonlocal phase
        await asyncio.sleep(0.01)
        phase = "between"
        await other.delete_namespace(info.id)
        await other.create_namespace("racing", FIXED_ID)
        phase = "after"

    await asyncio.gather(writer(1), writer(2), delete_then_create())
    assert {"before", "after"} <= set(acknowledged.values())
    reborn = await other.namespace(info.id)
    listed = {row[0] for row in (await reborn.list(b"", None, 1000, 0))[0]}
    for key, when in acknowledged.items():
        if when == "before":
            assert key not in listed and await reborn.get(key) is None, key  # deleted with the namespace
        if when == "after":
            assert key in listed and await reborn.get(key) is not None, key  # acknowledged: kept


async def test_deleting_a_namespace_removes_every_key_of_it(
    redis_server: RedisServer, location: str, store: RedisStore
) -> None:
    before = await _keys_of(redis_server, location)
    info = await store.create_namespace("big")
    handle = await store.namespace(info.id)
    for start in range(0, 3000, 1000):
        await handle.put_many([Write(f"k{i:05}".encode(), b"v", 5_000_000_000) for i in range(start, start + 1000)])
    assert len(await _keys_of(redis_server, location)) > 3000
    await store.delete_namespace(info.id)
    left = await _keys_of(redis_server, location)
    # What stays is the id's small record of its generations (it expires after a week) and the catalog.
    assert [key for key in left if key not in before and not key.endswith(b":life")] == []


async def test_concurrent_deletes_of_one_namespace_succeed_once(store: RedisStore, other: RedisStore) -> None:
    info = await store.create_namespace("twice")
    results = await asyncio.gather(
        store.delete_namespace(info.id), other.delete_namespace(info.id), return_exceptions=True
    )
    assert sorted(type(result).__name__ for result in results) == ["NamespaceNotFoundError", "NoneType"]


async def test_a_title_is_unique_across_hosts_creating_at_once(store: RedisStore, other: RedisStore) -> None:
    results = await asyncio.gather(
        *(host.create_namespace("contested") for host in (store, other) for _ in range(10)), return_exceptions=True
    )
    assert sum(not isinstance(result, Exception) for result in results) == 1
    assert [info.title for info in await other.list_namespaces()] == ["contested"]


async def test_a_create_stopped_halfway_is_completed_by_the_first_use(store: RedisStore, other: RedisStore) -> None:
    # The host took a generation and wrote the catalog record, then stopped before making it live.
    lifecycle, registry = store._lifecycle, store._registry
    generation = await lifecycle.allocate(FIXED_ID)
    await registry.insert(FIXED_ID, generation, "halfway")
    handle = await other.namespace(FIXED_ID)
    await handle.put(b"k", b"v", None, None)
    entry = await (await store.namespace(FIXED_ID)).get(b"k")
    assert entry is not None and entry.value == b"v"


async def test_a_delete_stopped_halfway_is_finished_by_the_first_use(store: RedisStore, other: RedisStore) -> None:
    await store.create_namespace("halfway", FIXED_ID)
    handle = await store.namespace(FIXED_ID)
    await handle.put(b"k", b"v", None, None)
    # The host ended the generation, then stopped before removing the catalog record.
    record = await store._registry.record(FIXED_ID)
    assert record is not None
    await store._lifecycle.end(FIXED_ID, record.generation)
    with pytest.raises(NamespaceNotFoundError):
        await (await other.namespace(FIXED_ID)).get(b"k")
    assert await other.get_namespace(FIXED_ID) is None  # the removal was finished
    reborn = await other.namespace((await other.create_namespace("halfway", FIXED_ID)).id)
    assert await reborn.get(b"k") is None  # and the deleted key never comes back


async def test_the_sweep_finishes_what_a_stopped_host_left(store: RedisStore, other: RedisStore) -> None:
    await store.create_namespace("ended", FIXED_ID)
    record = await store._registry.record(FIXED_ID)
    assert record is not None
    await store._lifecycle.end(FIXED_ID, record.generation)
    assert await other.get_namespace(FIXED_ID) is not None  # nobody has used it since
    assert await other.purge_expired(0) == 0
    assert await other.list_namespaces() == []


async def test_prefixes_keep_stores_apart(redis_server: RedisServer) -> None:
    first, second = RedisStore(redis_server.location("team")), RedisStore(redis_server.location("team:ci"))
    try:
        await first.create_namespace("shared title")
        await second.create_namespace("shared title")
        await (await second.namespace((await second.list_namespaces())[0].id)).put(b"k", b"v", None, None)
        await first.destroy()
        assert await first.list_namespaces() == []
        [info] = await second.list_namespaces()
        entry = await (await second.namespace(info.id)).get(b"k")
        assert entry is not None and entry.value == b"v"
    finally:
        await second.destroy()
        await first.close()
        await second.close()


async def test_destroy_empties_a_prefix_on_a_cluster_too(redis_cluster: RedisCluster) -> None:
    store = RedisStore(redis_cluster.location())
    try:
        for title in ("one", "two", "three"):  # their keys land in different slots, on different masters
            storage = await store.namespace((await store.create_namespace(title)).id)
            await storage.put_many([Write(f"k{i}".encode(), b"v", 5_000_000_000) for i in range(20)])
        await store.destroy()
        assert await store.list_namespaces() == []
        prefix = store.settings.prefix
        for node in redis_cluster.nodes:
            assert node.cli("--scan", "--pattern", f"{{{prefix}*") == ""
    finally:
        await store.close()
