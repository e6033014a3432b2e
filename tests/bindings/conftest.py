"""Fixtures for binding tests: a real SQLite store in a temp dir and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, SqliteStore

# Miniflare's KV tests run at a fake "now" of 1000 s; so do ours, so messages match theirs.
TIME_NOW = 1000
TIME_FUTURE = 1500


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TIME_NOW)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "persist")
    yield store
    await store.close()


@pytest.fixture
async def kv(store: SqliteStore, clock: ManualClock) -> KVNamespace:
    info = await store.create_namespace("test")
    return KVNamespace(await store.namespace(info.id), clock, name="NAMESPACE")
