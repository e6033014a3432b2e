"""Fixtures shared by all tests; the helpers they use live in ``support.py`` and ``redis_support.py``."""

from __future__ import annotations

import pytest

from tests.redis_fixtures import (
    _storage_for_the_module,
    _storage_for_the_session,
    _storage_for_the_test,
    redis_cluster,
    redis_server,
)

__all__ = [
    "_storage_for_the_module",
    "_storage_for_the_session",
    "_storage_for_the_test",
    "redis_cluster",
    "redis_server",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite's own machinery; keeps SQLite under WORKERHOST_TEST_STORAGE=redis"
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
