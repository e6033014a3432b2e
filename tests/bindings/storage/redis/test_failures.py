"""When Redis is away, full, or set up to lose writes: clear errors, recovery by itself, and an honest report.

Each test runs a real ``redis-server`` of its own, and kills, restarts or reconfigures it.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from bindings import StorageError
from bindings.errors import StorageFullError, StorageUnavailableError
from bindings.storage import Write
from bindings.storage.redis import RedisStore
from tests.redis_support import RedisCluster, RedisServer

pytestmark = pytest.mark.anyio


async def test_an_unreachable_server_is_a_clear_error_for_every_call(own_server: RedisServer) -> None:
    own_server.stop()
    store = RedisStore(own_server.location())
    try:
        unreachable = f"^Redis at 127.0.0.1:{own_server.port} is unreachable: .*Connection refused"
        for call in (store.list_namespaces(), store.create_namespace("x"), store.durability()):
            with pytest.raises(StorageUnavailableError, match=unreachable):
                await call
    finally:
        await store.close()


async def test_the_store_recovers_by_itself_when_redis_comes_back(own_server: RedisServer) -> None:
    store = RedisStore(own_server.location())
    try:
        storage = await store.namespace((await store.create_namespace("kept")).id)
        await storage.put_many([Write(f"k{i}".encode(), b"acknowledged") for i in range(100)])
        own_server.kill()
        with pytest.raises(StorageUnavailableError, match="is unreachable"):
            await storage.get(b"k1")
        with pytest.raises(StorageUnavailableError):
            await storage.put(b"late", b"v", None, None)
        own_server.restart()
        # No reconnect call, no new store: the next request simply works, and nothing acknowledged is lost.
        rows, more = await storage.list(b"", None, 1000, 0)
        assert len(rows) == 100 and not more
        entry = await storage.get(b"k99")
        assert entry is not None and entry.value == b"acknowledged"
        await storage.put(b"after", b"v", None, None)
    finally:
        await store.close()


async def test_a_full_server_refuses_the_write_that_does_not_fit_and_keeps_the_rest(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "small", {"maxmemory": "4mb"}).start()
    store = RedisStore(server.location())
    try:
        storage = await store.namespace((await store.create_namespace("small")).id)
        stored = 0
        with pytest.raises(StorageFullError, match="is out of memory .maxmemory.; the write was not applied"):
            for stored in range(1000):
                await storage.put(f"k{stored:04}".encode(), b"x" * 100_000, None, None)
        rows, _ = await storage.list(b"", None, 1000, 0)
        assert len(rows) == stored  # every write before the refusal, nothing of the refused one
        with pytest.raises(StorageFullError):
            await storage.put_many([Write(f"bulk{i}".encode(), b"y" * 100_000) for i in range(20)])
        assert len((await storage.list(b"", None, 1000, 0))[0]) == stored  # all or nothing
        await storage.delete_many([row[0] for row in rows[: stored // 2]])  # deletes go on
        await storage.put(b"fits again", b"v", None, None)
        entry = await storage.get(rows[-1][0])
        assert entry is not None and entry.value == b"x" * 100_000
    finally:
        await store.close()
        server.stop()


async def test_a_durable_server_is_reported_durable(own_server: RedisServer) -> None:
    store = RedisStore(own_server.location())
    try:
        durability = await store.durability()
        assert durability.durable is True and durability.warning() is None
        assert "appendonly yes, appendfsync always, maxmemory-policy noeviction" in durability.settings
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("config", "risk"),
    [
        ({"appendonly": "no"}, "Acknowledged KV writes can be lost if Redis crashes: without the append-only file"),
        ({"appendfsync": "everysec"}, "Acknowledged KV writes of the last second or so can be lost"),
        ({"appendfsync": "no"}, "the operating system decides when the append-only file reaches the disk"),
        ({"maxmemory-policy": "allkeys-lru"}, "Redis may delete stored keys when it runs out of memory"),
    ],
)
async def test_settings_that_can_lose_writes_are_said_plainly(
    tmp_path: Path, config: dict[str, str], risk: str
) -> None:
    server = RedisServer(tmp_path / "loose", config).start()
    store = RedisStore(server.location())
    try:
        durability = await store.durability()
        warning = durability.warning()
        assert durability.durable is False and warning is not None
        assert risk in warning
        assert "run Redis with appendonly yes, appendfsync always and maxmemory-policy noeviction" in warning
    finally:
        await store.close()
        server.stop()


async def test_a_server_that_forbids_config_is_reported_as_unknown(own_server: RedisServer) -> None:
    own_server.cli("ACL", "SETUSER", "app", "on", ">app-password", "~*", "+@all", "-config")
    store = RedisStore(own_server.url.replace("redis://", "redis://app:app-password@") + "?prefix=acl")
    try:
        durability = await store.durability()
        assert durability.durable is None
        assert "CONFIG GET refused" in durability.settings
        assert "cannot tell whether Redis keeps acknowledged KV writes through a crash" in (durability.warning() or "")
        await store.create_namespace("works anyway")  # everything else is allowed
    finally:
        await store.close()


async def test_wrong_credentials_are_refused_without_echoing_them(own_server: RedisServer) -> None:
    own_server.cli("ACL", "SETUSER", "app", "on", ">right-password", "~*", "+@all")
    store = RedisStore(own_server.url.replace("redis://", "redis://app:wrong-password@"))
    try:
        with pytest.raises(StorageError, match="refused the credentials") as caught:
            await store.list_namespaces()
        assert "wrong-password" not in str(caught.value)
    finally:
        await store.close()


async def test_a_cluster_reports_the_durability_of_every_master(redis_cluster: RedisCluster) -> None:
    store = RedisStore(redis_cluster.location())
    try:
        assert (await store.durability()).durable is True
    finally:
        await store.close()


async def test_a_unix_socket_location_works(own_server: RedisServer) -> None:
    store = RedisStore(f"{own_server.unix_url}?prefix=over-unix")
    try:
        storage = await store.namespace((await store.create_namespace("local")).id)
        await storage.put(b"k", b"v", None, None)
        assert (await storage.get(b"k")) is not None
        assert (await store.durability()).durable is True
    finally:
        await store.close()


async def test_a_server_that_stops_answering_is_an_error_after_the_timeout_not_a_hang(own_server: RedisServer) -> None:
    store = RedisStore(f"{own_server.location()}&timeout=0.3")
    try:
        storage = await store.namespace((await store.create_namespace("frozen")).id)
        await storage.put(b"k", b"v", None, None)
        assert own_server.process is not None
        own_server.process.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(StorageUnavailableError, match="is unreachable: no answer within the timeout"):
                await storage.get(b"k")
        finally:
            own_server.process.send_signal(signal.SIGCONT)
        entry = await storage.get(b"k")
        assert entry is not None and entry.value == b"v"
    finally:
        await store.close()
