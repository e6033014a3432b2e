"""The KV service's bulk get against a real store: its 25 MiB total is judged before values are loaded.

Everything else the service does is seen through the binding (``test_kv.py``) and the REST API.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from bindings import KVError, ManualClock, Store
from bindings.service import KVService
from bindings.storage import EntryHead, NamespaceStorage

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024
TOO_LARGE = "Total size of request exceeds the limit of 25MB"
NOT_JSON = "At least one of the requested keys corresponds to a non-json value"


@pytest.fixture
async def service(store: Store, clock: ManualClock) -> KVService:
    info = await store.create_namespace("bulk")
    return KVService(await store.namespace(info.id), clock)


async def _put(service: KVService, key: str, value: bytes) -> None:
    await service.put(key.encode(), value)


async def test_a_bulk_get_over_the_total_is_refused_without_loading_its_big_values(service: KVService) -> None:
    for key in ("a", "b", "c"):
        await _put(service, key, b'"' + b"x" * (13 * MIB) + b'"')
    tracemalloc.start()
    try:
        with pytest.raises(KVError, match=f"^{TOO_LARGE}$"):
            await service.get_bulk(["a", "b", "c"], "json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MIB, peak  # none of the 39 MiB was read
    assert len((await service.get_bulk(["a"], "json"))["a"]) == 13 * MIB


async def test_a_small_value_that_is_not_json_is_reported_before_the_total(service: KVService) -> None:
    # Miniflare judges the values before the total; a big bad value is never loaded, so the total wins.
    await _put(service, "big1", b"1" * (13 * MIB))
    await _put(service, "big2", b"2" * (13 * MIB))
    await _put(service, "small", b"not json")
    with pytest.raises(KVError, match=f"^{NOT_JSON}$"):
        await service.get_bulk(["big1", "big2", "small"], "json")
    await _put(service, "big3", b"not json" * MIB)
    with pytest.raises(KVError, match=f"^{TOO_LARGE}$"):
        await service.get_bulk(["big1", "big2", "big3"], "json")
    with pytest.raises(KVError, match=f"^{TOO_LARGE}$"):
        await service.get_bulk(["big1", "big2", "small"], "text")


class _WritesBetweenReads:
    """A namespace's real storage, with another client's writes landing just after ``heads``:
    the race a bulk get must survive, staged so that it happens every time."""

    def __init__(self, storage: NamespaceStorage, meanwhile: Callable[[], Awaitable[None]]) -> None:
        self._storage = storage
        self._meanwhile = meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        heads = await self._storage.heads(keys)
        await self._meanwhile()
        return heads


async def test_a_bulk_get_counts_the_values_it_loaded_not_the_sizes_it_was_told(
    service: KVService, clock: ManualClock
) -> None:
    await _put(service, "a", b"a")
    await _put(service, "b", b"b")
    await _put(service, "gone", b"g")

    async def meanwhile() -> None:
        await _put(service, "a", b"a" * (13 * MIB))
        await _put(service, "b", b"b" * (13 * MIB))
        await service.delete(b"gone")

    racing = KVService(_WritesBetweenReads(service.storage, meanwhile), clock)  # type: ignore[arg-type]
    with pytest.raises(KVError, match=f"^{TOO_LARGE}$"):
        await racing.get_bulk(["a", "b", "gone"])


async def test_a_bulk_get_answers_with_the_entries_as_loaded(service: KVService, clock: ManualClock) -> None:
    await _put(service, "changed", b"old")
    await _put(service, "gone", b"g")
    await _put(service, "expiring", b"e")

    async def meanwhile() -> None:
        await _put(service, "changed", b"new")
        await service.delete(b"gone")
        await service.put(b"expiring", b"e", expiration=str(int(clock.now()) + 60))
        clock.advance(61)

    racing = KVService(_WritesBetweenReads(service.storage, meanwhile), clock)  # type: ignore[arg-type]
    assert await racing.get_bulk(["changed", "gone", "expiring"]) == {"changed": "new", "gone": None, "expiring": None}
