"""Fixtures for binding tests: a real store on every engine, and a clock the test moves.

``location`` is the one fixture that names engines: every test that uses a store (the storage
contract, the binding, the KV service) runs once per engine: SQLite in a temp dir, and Redis on the
session's real ``redis-server`` under a key prefix of the test's own. ``storage/conftest.py`` adds a
real Redis Cluster for the storage contract. Tests of one engine's own machinery override ``store``
in their folder (``storage/sqlite/conftest.py``, ``storage/redis/conftest.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, Store, open_store, sqlite_location
from tests.redis_support import RedisCluster, RedisServer

# Miniflare's KV tests run at a fake "now" of 1000 s; so do ours, so messages match theirs.
TIME_NOW = 1000
TIME_FUTURE = 1500

Engine = Callable[[pytest.FixtureRequest, Path], str]  # the test, a fresh temp dir → the location of an empty store


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_location(tmp_path / "persist")


def _redis(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.location()


def _redis_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    cluster: RedisCluster = request.getfixturevalue("redis_cluster")
    return cluster.location()


ENGINES = [pytest.param(_sqlite, id="sqlite"), pytest.param(_redis, id="redis")]
CLUSTER = pytest.param(_redis_cluster, id="redis-cluster")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TIME_NOW)


@pytest.fixture(params=ENGINES)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an empty store lives, once per engine; ``open_store(location)`` opens it (again)."""
    engine: Engine = request.param
    return engine(request, tmp_path)


@pytest.fixture
async def store(location: str) -> AsyncIterator[Store]:
    store = open_store(location)
    yield store
    await store.close()


@pytest.fixture
async def kv(store: Store, clock: ManualClock) -> KVNamespace:
    info = await store.create_namespace("test")
    return KVNamespace(await store.namespace(info.id), clock, name="NAMESPACE")
