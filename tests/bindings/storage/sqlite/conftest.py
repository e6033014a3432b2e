"""Fixtures for tests of the SQLite engine's own machinery: ``store`` is a ``SqliteStore`` here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bindings import SqliteStore


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # SQLite's own machinery: it keeps SQLite under WORKERHOST_TEST_STORAGE=redis (``tests/redis_fixtures.py``).
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.sqlite_only)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "persist")
    yield store
    await store.close()
