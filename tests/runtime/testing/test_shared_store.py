"""The pytest plugin on a shared store: kv.yaml's ``storage:`` names Redis, and every test still gets KV data
of its own (a fresh key prefix on that server), deleted when the test ends."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bindings.storage.redis import RedisStore
from tests.redis_support import RedisServer

from .test_testing import ASYNC_TESTS, INPROCESS, KV_YAML, SITE, STRICT_INI, SYNC_TESTS

pytestmark = pytest.mark.sqlite_only  # names its own store in kv.yaml

ISOLATION_TESTS = """
import pytest


@pytest.mark.parametrize("run", range(3))
def test_every_test_starts_empty(workerhost, run):
    assert workerhost.kv("PAGES").get("same key") is None
    assert workerhost.kv("PAGES").list()["keys"] == []
    workerhost.kv("PAGES").put("same key", f"run {run}")
    assert workerhost.config.storage.startswith("redis://")
    namespaces = workerhost.client.get("/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces")
    assert "precious" not in {item["title"] for item in namespaces.json()["result"]}
"""


async def _precious(location: str, create: bool) -> bytes | None:
    # Data already under the prefix kv.yaml names: a team's staging namespace.
    store = RedisStore(location)
    try:
        info = await store.create_namespace("precious") if create else await store.find_namespace("precious")
        if info is None:
            return None
        storage = await store.namespace(info.id)
        if create:
            await storage.put(b"k", b"kept", None, None)
        entry = await storage.get(b"k")
        return None if entry is None else entry.value
    finally:
        await store.close()


async def _keys(server: RedisServer, pattern: str) -> list[bytes]:
    client = Redis(port=server.port)
    try:
        return [key async for key in client.scan_iter(match=pattern)]
    finally:
        await client.aclose()


def test_every_test_gets_a_prefix_of_its_own_on_redis_deleted_afterwards(
    pytester: pytest.Pytester, redis_server: RedisServer
) -> None:
    location = redis_server.location("team")
    assert asyncio.run(_precious(location, create=True)) == b"kept"
    pytester.makefile(".yaml", kv=f"storage: {location}\n" + KV_YAML)
    pytester.makepyfile(site=SITE, test_site=SYNC_TESTS, test_async=ASYNC_TESTS, test_isolation=ISOLATION_TESTS)
    pytester.makeini(STRICT_INI)
    result = pytester.runpytest(*INPROCESS)
    result.assert_outcomes(passed=11)  # the plugin's whole user-facing suite, on Redis
    assert asyncio.run(_keys(redis_server, "{team:test-*")) == []  # every test's keys are gone
    assert asyncio.run(_precious(location, create=False)) == b"kept"  # and what kv.yaml's prefix held is intact
