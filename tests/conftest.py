"""Fixtures shared by all tests; the helpers they use live in ``support.py``."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
