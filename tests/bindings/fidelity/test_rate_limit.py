"""``rate_limit``: one write per second to a key, on the injected clock, through the binding and REST.

https://developers.cloudflare.com/kv/api/write-key-value-pairs/ ("Limits to KV writes to the same key").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bindings import KVError, KVNamespace, ManualClock, SqliteStore
from bindings.errors import StorageFullError
from bindings.fidelity import FidelitySettings, NamespaceFidelity
from bindings.fidelity.ratelimit import WriteRateLimiter
from bindings.storage import Write

from .conftest import Served

pytestmark = pytest.mark.anyio

TOO_MANY = "KV PUT failed: 429 Too Many Requests"


@pytest.fixture
def limited(served: Callable[..., Served]) -> Served:
    return served(rate_limit=True)


async def test_a_second_put_to_a_key_within_a_second_fails_as_production_fails(limited: Served) -> None:
    await limited.kv.put("counter", "1")
    with pytest.raises(KVError) as caught:
        await limited.kv.put("counter", "2")
    assert str(caught.value) == TOO_MANY
    assert caught.value.status == 429
    assert await limited.kv.get("counter") == "1"  # the refused write changed nothing


async def test_the_key_takes_a_write_again_once_a_second_has_passed(limited: Served) -> None:
    await limited.kv.put("counter", "1")
    limited.advance(0.999)
    with pytest.raises(KVError, match="^KV PUT failed: 429 Too Many Requests$"):
        await limited.kv.put("counter", "2")
    limited.advance(0.001)
    await limited.kv.put("counter", "2")
    assert await limited.kv.get("counter") == "2"


async def test_a_refused_write_does_not_extend_the_wait(limited: Served) -> None:
    await limited.kv.put("k", "1")
    limited.advance(0.5)
    with pytest.raises(KVError):
        await limited.kv.put("k", "2")
    limited.advance(0.5)
    await limited.kv.put("k", "3")


async def test_other_keys_are_not_limited(limited: Served) -> None:
    for index in range(50):
        await limited.kv.put(f"key-{index}", "v")
    assert len((await limited.kv.list()).keys) == 50


async def test_of_two_concurrent_writes_to_a_key_exactly_one_is_refused(limited: Served) -> None:
    results = await asyncio.gather(limited.kv.put("k", "a"), limited.kv.put("k", "b"), return_exceptions=True)
    assert sorted(type(result).__name__ for result in results) == ["KVError", "NoneType"]
    stored = await limited.kv.get("k")
    assert stored == ("a" if results[0] is None else "b")


async def test_the_rest_api_and_the_binding_share_the_keys_window(limited: Served) -> None:
    await limited.kv.put("k", "from a handler")
    with pytest.raises(KVError) as caught:
        await limited.rest.put(b"k", b"from the REST API")
    assert (caught.value.status, caught.value.message) == (429, "Too Many Requests")
    limited.advance(1)
    await limited.rest.put(b"k", b"from the REST API")
    with pytest.raises(KVError, match=f"^{TOO_MANY}$"):
        await limited.kv.put("k", "from a handler")


async def test_a_bulk_write_with_a_key_written_within_the_second_stores_nothing(limited: Served) -> None:
    await limited.kv.put("b", "1")
    with pytest.raises(KVError, match="^Too Many Requests$"):
        await limited.rest.put_many([Write(b"a", b"A"), Write(b"b", b"B"), Write(b"c", b"C")])
    assert await limited.kv.get(["a", "b", "c"]) == {"a": None, "b": "1", "c": None}
    # None of the bulk's keys was claimed by the refused write.
    await limited.kv.put("a", "2")


async def test_a_key_named_twice_in_one_bulk_write_is_one_write(limited: Served) -> None:
    await limited.rest.put_many([Write(b"k", b"first"), Write(b"k", b"second"), Write(b"other", b"x")])
    with pytest.raises(KVError, match=f"^{TOO_MANY}$"):
        await limited.kv.put("k", "third")  # the bulk write took the key's second


async def test_deletes_are_not_limited(limited: Served) -> None:
    await limited.kv.put("k", "v")
    await limited.kv.delete("k")
    await limited.kv.delete("k")
    assert await limited.kv.get("k") is None


async def test_a_put_refused_by_validation_does_not_count(limited: Served) -> None:
    with pytest.raises(KVError, match="Expiration TTL must be at least 60"):
        await limited.kv.put("k", "v", expiration_ttl=30)
    await limited.kv.put("k", "v")


def test_a_write_that_failed_in_the_store_gives_its_second_back() -> None:
    clock = ManualClock(1000)
    limiter = WriteRateLimiter(clock)
    limiter.reserve([b"a"])
    clock.advance(2)
    reservation = limiter.reserve([b"a", b"b"])
    limiter.release(reservation)
    limiter.reserve([b"a", b"b"])  # neither key is taken by the write that failed
    with pytest.raises(KVError):
        limiter.reserve([b"b"])


def test_the_limiter_remembers_only_the_last_second_and_at_most_its_cap() -> None:
    clock = ManualClock(1000)
    limiter = WriteRateLimiter(clock, max_keys=100)
    limiter.reserve([f"k{index}".encode() for index in range(250)])
    assert len(limiter) == 100  # the oldest beyond the cap are forgotten
    clock.advance(1)
    limiter.reserve([b"new"])
    assert len(limiter) == 1


async def test_a_write_the_store_refuses_gives_its_second_back(tmp_path: Path) -> None:
    # SQLite's page cap is how a full disk is made on purpose; the limiter itself knows no engine.
    store = SqliteStore(tmp_path / "full")
    try:
        clock = ManualClock(1000)
        info = await store.create_namespace("full")
        state = NamespaceFidelity(FidelitySettings(rate_limit=True), clock)
        kv = KVNamespace(await store.namespace(info.id), clock, fidelity=state)
        await kv.put("other", "x")  # the file exists before the cap
        await store.set_max_pages(1)
        with pytest.raises(StorageFullError):
            await kv.put("k", "v" * 100_000)
        await store.set_max_pages(None)
        await kv.put("k", "v")  # the same second: the refused write claimed nothing
        assert await kv.get("k") == "v"
    finally:
        await store.close()
