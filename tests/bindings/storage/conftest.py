"""The storage contract runs on every engine, on a real 3-master Redis Cluster (every namespace's keys must
share one hash slot, or its scripts would be refused there), and with encryption at rest on, on both
engines: sealed entries must behave exactly as plain ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bindings import Store, open_store
from bindings.storage.encryption import EncryptionKey, new_key_text

from ..conftest import CLUSTER, ENGINES, Engine

Reopen = Callable[[], Store]  # a new store on the test's location, with the test's key (if any)


@dataclass(frozen=True)
class _Variant:
    engine: Engine
    encrypted: bool = False


VARIANTS = [
    *(pytest.param(_Variant(engine.values[0]), id=engine.id) for engine in [*ENGINES, CLUSTER]),
    *(pytest.param(_Variant(engine.values[0], encrypted=True), id=f"{engine.id}-encrypted") for engine in ENGINES),
]


@pytest.fixture(params=VARIANTS)
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Reopen:
    """Opens a store on one empty location per variant, each time anew (several may be open at once)."""
    variant: _Variant = request.param
    location = variant.engine(request, tmp_path)
    key = EncryptionKey.from_text(new_key_text(), "the test's key") if variant.encrypted else None
    return lambda: open_store(location, key=key)


@pytest.fixture
async def store(reopen: Reopen) -> AsyncIterator[Store]:
    store = reopen()
    yield store
    await store.close()
