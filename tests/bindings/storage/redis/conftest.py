"""Fixtures for tests of the Redis engine's own machinery: ``store`` is a ``RedisStore`` on the session's
server under a prefix of its own; ``own_server`` is a server of the test's own, to kill and restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bindings.storage.redis import RedisStore
from tests.redis_support import RedisServer


@pytest.fixture
def location(redis_server: RedisServer) -> str:
    return redis_server.location()


@pytest.fixture
async def store(location: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(location)
    yield store
    await store.close()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
