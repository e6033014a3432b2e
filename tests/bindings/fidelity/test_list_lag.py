"""``consistency: eventual``: key lists lag behind writes, and a page can be empty with more to come.

https://developers.cloudflare.com/kv/api/list-keys/: changes "may take up to 60 seconds" to be
visible when listing keys, and "it is possible to have an empty array in keys, but still have more
keys to fetch".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bindings import ManualClock
from bindings.fidelity.listlag import ListLag
from bindings.storage import Write

from .conftest import Served

pytestmark = pytest.mark.anyio


@pytest.fixture
def lagging(served: Callable[..., Served]) -> Served:
    return served(consistency="eventual")


async def _names(served: Served, **options: object) -> list[str]:
    return [key.name for key in (await served.kv.list(**options)).keys]  # type: ignore[arg-type]


async def test_a_new_key_is_listed_once_the_lag_has_passed(lagging: Served) -> None:
    await lagging.kv.put("new", "v")
    assert await lagging.kv.get("new") == "v"  # written at the same location: readable at once...
    assert await _names(lagging) == []  # ...but not listed yet
    lagging.advance(59)
    assert await _names(lagging) == []
    lagging.advance(1)
    assert await _names(lagging) == ["new"]


async def test_a_deleted_key_is_still_listed_with_what_it_had(lagging: Served) -> None:
    await lagging.storage.put(b"old", b"v", None, '{"m":1}')  # there before anything was noted
    await lagging.kv.delete("old")
    page = await lagging.kv.list()
    assert [key.to_dict() for key in page.keys] == [{"name": "old", "metadata": {"m": 1}}]
    lagging.advance(60)
    assert await _names(lagging) == []


async def test_an_overwritten_key_keeps_its_old_metadata_until_the_lag_passes(lagging: Served) -> None:
    await lagging.storage.put(b"k", b"v", None, '{"v":1}')
    lagging.advance(10)
    await lagging.kv.put("k", "v2", metadata={"v": 2})
    lagging.advance(30)
    await lagging.kv.put("k", "v3", metadata={"v": 3})  # changes in a row show together
    lagging.advance(59)
    assert [key.metadata for key in (await lagging.kv.list()).keys] == [{"v": 1}]
    lagging.advance(1)
    assert [key.metadata for key in (await lagging.kv.list()).keys] == [{"v": 3}]


async def test_a_page_can_be_empty_with_more_to_come(lagging: Served) -> None:
    await lagging.storage.put(b"d", b"old", None, None)
    await lagging.kv.put("b", "new")
    await lagging.kv.put("c", "new")
    first = await lagging.kv.list(limit=2)
    assert first.keys == [] and first.list_complete is False and first.cursor
    second = await lagging.kv.list(limit=2, cursor=first.cursor)
    assert [key.name for key in second.keys] == ["d"] and second.list_complete is True


async def test_a_deleted_key_is_listed_in_the_page_it_falls_in(lagging: Served) -> None:
    for name in ("a", "b", "c", "e"):
        await lagging.storage.put(name.encode(), b"v", None, None)
    await lagging.storage.put(b"d", b"v", None, None)
    await lagging.kv.delete("d")
    await lagging.kv.delete("a")
    pages, cursor = [], None
    while True:
        page = await lagging.kv.list(limit=2, cursor=cursor)
        pages.append([key.name for key in page.keys])
        if page.list_complete:
            break
        cursor = page.cursor
    assert pages == [["a", "b"], ["c", "d"], ["e"]]


async def test_lists_lag_with_a_prefix_and_for_rest_writes_too(lagging: Served) -> None:
    await lagging.rest.put_many([Write(b"user:1", b"a"), Write(b"user:2", b"b"), Write(b"team:1", b"c")])
    assert await _names(lagging, prefix="user:") == []
    lagging.advance(60)
    assert await _names(lagging, prefix="user:") == ["user:1", "user:2"]
    await lagging.rest.delete_many(["user:1"])
    assert await _names(lagging, prefix="user:") == ["user:1", "user:2"]


async def test_the_rest_api_lists_the_store_itself(lagging: Served) -> None:
    await lagging.kv.put("k", "v")
    assert [key.name for key in (await lagging.rest.list()).keys] == ["k"]


async def test_an_expired_key_is_not_listed_for_the_lag(lagging: Served) -> None:
    await lagging.storage.put(b"k", b"v", 1030, None)  # expires at 1030
    await lagging.kv.delete("k")
    assert await _names(lagging) == ["k"]
    lagging.advance(31)
    assert await _names(lagging) == []


async def test_settle_brings_lists_up_to_date(lagging: Served) -> None:
    await lagging.kv.put("k", "v")
    lagging.state.settle()
    assert await _names(lagging) == ["k"]


async def test_the_list_lag_is_a_setting(served: Callable[..., Served]) -> None:
    quick = served(consistency="eventual", list_lag=5)
    await quick.kv.put("k", "v")
    quick.advance(5)
    assert await _names(quick) == ["k"]


def test_the_noted_changes_are_bounded() -> None:
    clock = ManualClock(1000)
    lag = ListLag(clock, 60, max_changes=100)
    for index in range(500):
        lag.note(f"k{index}".encode(), None)
    assert len(lag) == 100
    clock.advance(60)
    lag.note(b"new", None)
    assert len(lag) == 1
