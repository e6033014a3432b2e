"""Fixtures for tests of the SQLite engine's own machinery: ``store`` is a ``SqliteStore`` here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bindings import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "persist")
    yield store
    await store.close()
