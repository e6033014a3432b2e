"""Redis fixtures, and the one switch that runs the binding, REST, CLI, host and plugin suites on Redis.

    WORKERHOST_TEST_STORAGE=redis pytest

starts a ``redis-server`` per test session (and xdist worker) and sets ``WORKERHOST_STORAGE`` to it,
with a key prefix of each test's own, so every host, CLI run, dev server and plugin fixture a test
starts keeps its KV data there. Tests of SQLite's own machinery (files, page caps, the read cache)
are marked ``sqlite_only`` and keep SQLite. Without the switch, only the Redis tests use Redis.

``tests/conftest.py`` and ``examples/conftest.py`` import these fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_support import RedisCluster, RedisServer

SWITCH = "WORKERHOST_TEST_STORAGE"
STORAGE_ENV = "WORKERHOST_STORAGE"


def store_location(directory: Path) -> str:
    """Where a test's own store is: ``WORKERHOST_STORAGE`` when the switch set it, else SQLite in ``directory``."""
    from bindings import sqlite_location

    return os.environ.get(STORAGE_ENV) or sqlite_location(directory)


def where_data_is(persist_to: Path) -> str:
    """How messages name the store a test's host or CLI opens: the persist directory, or the Redis location."""
    from runtime.config.storage import describe_storage

    return describe_storage(os.environ.get(STORAGE_ENV) or str(persist_to), persist_to)


def storage_under_test() -> str:
    """``sqlite`` or ``redis``: what ``WORKERHOST_TEST_STORAGE`` asks the suites to run on."""
    value = os.environ.get(SWITCH, "sqlite").strip().lower() or "sqlite"
    if value not in ("sqlite", "redis"):
        raise pytest.UsageError(f"{SWITCH} must be sqlite or redis, got {value!r}")
    return value


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A durable ``redis-server`` for the session (one per xdist worker); tests share it by key prefix."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A real Redis Cluster of three masters for the session."""
    cluster = RedisCluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session", autouse=True)
def _storage_for_the_session(request: pytest.FixtureRequest) -> Iterator[None]:
    # Session fixtures (a dev server shared by a module's tests) start before any test's own prefix.
    if storage_under_test() != "redis":
        yield
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    patch = pytest.MonkeyPatch()
    patch.setenv(STORAGE_ENV, server.location())
    yield
    patch.undo()


@pytest.fixture(scope="module", autouse=True)
def _storage_for_the_module(request: pytest.FixtureRequest) -> Iterator[None]:
    # A module marked sqlite_only may start a server for all its tests: it must start on SQLite too.
    marks = getattr(request.module, "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    if storage_under_test() != "redis" or not any(mark.name == "sqlite_only" for mark in marks):
        yield
        return
    patch = pytest.MonkeyPatch()
    patch.delenv(STORAGE_ENV, raising=False)
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _storage_for_the_test(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if storage_under_test() != "redis":
        return
    if request.node.get_closest_marker("sqlite_only") is not None:
        monkeypatch.delenv(STORAGE_ENV, raising=False)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    monkeypatch.setenv(STORAGE_ENV, server.location())
