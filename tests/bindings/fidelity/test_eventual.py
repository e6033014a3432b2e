"""``consistency: eventual``: reads at a simulated edge location, on the injected clock.

https://developers.cloudflare.com/kv/concepts/how-kv-works/: changes are usually visible at once
where they were made and take "up to 60 seconds or more" elsewhere; misses are cached too. A read's
``cacheTtl`` (default 60, minimum 30) is how old a result it accepts
(https://developers.cloudflare.com/kv/api/read-key-value-pairs/).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bindings import KVError, ManualClock
from bindings.fidelity.edge import EdgeViews
from bindings.storage import Entry, Write

from .conftest import Served

pytestmark = pytest.mark.anyio


@pytest.fixture
def elsewhere(served: Callable[..., Served]) -> Served:
    """Handlers' writes land at another location than their reads."""
    return served(consistency="eventual", writes="another_location")


@pytest.fixture
def here(served: Callable[..., Served]) -> Served:
    """Handlers' writes land where they read."""
    return served(consistency="eventual", writes="same_location")


# --- where a handler's own writes land ------------------------------------------------------------


async def test_another_location_does_not_see_a_write_until_the_cache_ttl_has_passed(elsewhere: Served) -> None:
    await elsewhere.kv.put("greeting", "hello")
    assert await elsewhere.kv.get("greeting") is None  # a read right after the write: not there yet
    elsewhere.advance(59.9)
    assert await elsewhere.kv.get("greeting") is None
    elsewhere.advance(0.1)
    assert await elsewhere.kv.get("greeting") == "hello"
    assert await elsewhere.rest.get(b"greeting") is not None  # the store had it all along


async def test_another_location_keeps_serving_the_old_value_of_an_overwritten_key(elsewhere: Served) -> None:
    await elsewhere.rest.put(b"count", b"41")
    assert await elsewhere.kv.get("count") == "41"
    elsewhere.advance(30)
    await elsewhere.kv.put("count", "42")
    assert await elsewhere.kv.get("count") == "41"
    elsewhere.advance(30)  # the view fetched 60 s ago has aged out
    assert await elsewhere.kv.get("count") == "42"


async def test_another_location_still_sees_a_deleted_key(elsewhere: Served) -> None:
    await elsewhere.rest.put(b"k", b"v", metadata='{"by":"api"}')
    await elsewhere.kv.delete("k")
    found = await elsewhere.kv.get_with_metadata("k")
    assert (found.value, found.metadata) == ("v", {"by": "api"})
    elsewhere.advance(60)
    assert await elsewhere.kv.get("k") is None


async def test_the_same_location_sees_its_own_writes_and_deletes_at_once(here: Served) -> None:
    assert await here.kv.get("k") is None  # the miss is cached...
    await here.kv.put("k", "v1")
    assert await here.kv.get("k") == "v1"  # ...and replaced by the location's own write
    await here.kv.put("k", "v2", metadata={"n": 2})
    assert (await here.kv.get_with_metadata("k")).metadata == {"n": 2}
    await here.kv.delete("k")
    assert await here.kv.get("k") is None


# --- writes made elsewhere (the REST API) -------------------------------------------------------


async def test_a_value_the_location_has_read_stays_until_its_cache_ttl_passes(here: Served) -> None:
    await here.rest.put(b"config", b"v1")
    assert await here.kv.get("config") == "v1"
    await here.rest.put(b"config", b"v2")
    assert await here.kv.get("config") == "v1"
    assert (await here.rest.get(b"config")).value == b"v2"  # type: ignore[union-attr]
    here.advance(60)
    assert await here.kv.get("config") == "v2"


async def test_a_key_the_location_has_not_read_is_fetched_fresh(here: Served) -> None:
    await here.rest.put(b"k", b"v")
    assert await here.kv.get("k") == "v"


async def test_a_missing_key_stays_missing_for_the_negative_cache_time(served: Callable[..., Served]) -> None:
    location = served(consistency="eventual", negative_ttl=30)
    assert await location.kv.get("new") is None
    await location.rest.put(b"new", b"v")
    location.advance(29)
    assert await location.kv.get("new") is None
    location.advance(1)
    assert await location.kv.get("new") == "v"


async def test_a_lower_cache_ttl_checks_for_newer_data_and_a_higher_one_serves_older(here: Served) -> None:
    await here.rest.put(b"k", b"v1")
    assert await here.kv.get("k") == "v1"
    await here.rest.put(b"k", b"v2")
    here.advance(45)
    assert await here.kv.get("k", cache_ttl=300) == "v1"
    assert await here.kv.get("k") == "v1"  # 45 s old: within the default 60
    assert await here.kv.get("k", cacheTtl=30) == "v2"


async def test_the_default_cache_ttl_is_a_setting(served: Callable[..., Served]) -> None:
    location = served(consistency="eventual", cache_ttl=300)
    await location.rest.put(b"k", b"v1")
    assert await location.kv.get("k") == "v1"
    await location.rest.put(b"k", b"v2")
    location.advance(299)
    assert await location.kv.get("k") == "v1"
    location.advance(1)
    assert await location.kv.get("k") == "v2"


async def test_cache_ttl_is_still_validated(here: Served) -> None:
    with pytest.raises(
        KVError, match=r"^KV GET failed: 400 Invalid cache_ttl of 10\. Cache TTL must be at least 30\.$"
    ):
        await here.kv.get("k", cache_ttl=10)


async def test_expiration_wins_over_a_cached_value(here: Served) -> None:
    await here.kv.put("session", "s", expiration_ttl=60)
    assert await here.kv.get("session", cache_ttl=3600) == "s"
    here.advance(60)
    assert await here.kv.get("session", cache_ttl=3600) is None


async def test_every_kind_of_read_goes_through_the_location(here: Served) -> None:
    await here.rest.put(b"a", b'{"n": 1}', metadata='{"m": 1}')
    assert await here.kv.get(["a", "b"], type="json") == {"a": {"n": 1}, "b": None}  # both now cached
    await here.rest.put_many([Write(b"a", b'{"n": 2}'), Write(b"b", b'"new"')])
    assert await here.kv.get(["a", "b"], type="json") == {"a": {"n": 1}, "b": None}
    assert (await here.kv.get_with_metadata("a", type="json")).value == {"n": 1}
    assert await here.kv.get("a", type="bytes") == b'{"n": 1}'
    chunks = [chunk async for chunk in await here.kv.get("a", type="stream")]
    assert b"".join(chunks) == b'{"n": 1}'
    here.advance(60)
    assert await here.kv.get(["a", "b"], type="json") == {"a": {"n": 2}, "b": "new"}


async def test_a_bulk_get_with_a_cache_ttl_accepts_views_that_old(here: Served) -> None:
    await here.rest.put(b"a", b"1")
    assert await here.kv.get(["a"]) == {"a": "1"}
    await here.rest.put(b"a", b"2")
    here.advance(40)
    assert await here.kv.get(["a"], cache_ttl=60) == {"a": "1"}
    assert await here.kv.get(["a"], {"cacheTtl": 30}) == {"a": "2"}


async def test_the_rest_api_reads_the_store_itself(elsewhere: Served) -> None:
    assert await elsewhere.kv.get("k") is None
    await elsewhere.kv.put("k", "v")
    entry = await elsewhere.rest.get(b"k")
    assert entry is not None and entry.value == b"v"
    stream = await elsewhere.rest.open(b"k")
    assert stream is not None
    await stream.aclose()


async def test_settle_makes_the_location_consistent_at_once(elsewhere: Served) -> None:
    await elsewhere.kv.put("k", "v")
    assert await elsewhere.kv.get("k") is None
    elsewhere.state.settle()
    assert await elsewhere.kv.get("k") == "v"


async def test_a_write_another_process_makes_reaches_the_location_the_same_way(here: Served) -> None:
    assert await here.kv.get("k") is None
    await here.storage.put(b"k", b"written by workerhost kv", None, None)  # no service, no fidelity state
    assert await here.kv.get("k") is None
    here.advance(60)
    assert await here.kv.get("k") == "written by workerhost kv"


# --- memory --------------------------------------------------------------------------------------


def _entry(size: int) -> Entry:
    return Entry(b"x" * size, size, None, None)


def test_the_views_are_bounded_by_count_and_bytes() -> None:
    clock = ManualClock(1000)
    views = EdgeViews(clock, 60, max_views=100, max_bytes=1_000_000)
    for index in range(500):
        views.remember(f"k{index}".encode(), None)
    assert len(views) == 100
    assert views.cached(b"k499", 60) is not None and views.cached(b"k0", 60) is None  # oldest went first
    views = EdgeViews(clock, 60, max_views=100, max_bytes=10_000)
    for index in range(50):
        views.remember(f"v{index}".encode(), _entry(1000))
    assert views.bytes <= 10_000
    views.remember(b"huge", _entry(20_000))  # bigger than the whole cache: not kept
    assert views.cached(b"huge", 60) is None and views.bytes <= 10_000
    views.clear()
    assert (len(views), views.bytes) == (0, 0)
