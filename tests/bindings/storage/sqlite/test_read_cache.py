"""The SQLite engine's read cache: reads repeat for free while the file is unchanged, and never go stale.

"Elsewhere" below is a plain ``sqlite3`` connection to the namespace file, as the ``sqlite3`` shell or
another process would write it; a second process is covered in ``test_store.py``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, SqliteStore
from bindings.storage import KeyInfo, open_store, sqlite_location
from bindings.storage.encryption import KeyedStore
from bindings.storage.sqlite import cache as sqlite_cache, namespace as engine
from bindings.storage.sqlite.readers import NamespaceReaders

from ...conftest import TIME_NOW

pytestmark = pytest.mark.anyio


async def _namespace(store: SqliteStore, clock: ManualClock) -> tuple[KVNamespace, Path]:
    info = await store.create_namespace("cached")
    return KVNamespace(await store.namespace(info.id), clock), store.namespace_path(info.id)


def _write_elsewhere(path: Path, sql: str, *parameters: object) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(sql, parameters)
    finally:
        connection.close()


def _put_elsewhere(path: Path, key: str, value: str, expiration: int | None = None) -> None:
    _write_elsewhere(
        path,
        "INSERT INTO entries (key, expiration, size, value) VALUES (?, ?, ?, ?) ON CONFLICT (key) "
        "DO UPDATE SET expiration = excluded.expiration, size = excluded.size, value = excluded.value",
        key.encode(),
        expiration,
        len(value.encode()),
        value.encode(),
    )


def _readers(kv: KVNamespace) -> NamespaceReaders:
    """The read connections of the namespace's open file (the test has used the namespace, so it is open)."""
    storage = kv.service.storage
    assert isinstance(storage, engine.SqliteNamespace)
    file = storage._file
    assert file is not None and file.live
    return file.readers


def _statements(kv: KVNamespace) -> list[str]:
    """Record the SQL the namespace's reading connection runs from now on."""
    seen: list[str] = []
    _readers(kv).get().set_trace_callback(seen.append)
    return seen


async def test_an_unchanged_key_is_read_again_without_a_query(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("hot", "value")
    assert await kv.get("hot") == "value"
    assert await kv.get("hot") == "value"  # the first reads map the file's WAL index
    seen = _statements(kv)
    assert [await kv.get("hot") for _ in range(3)] == ["value"] * 3
    assert seen == []  # not even a check: the WAL-index header said nothing had committed


async def test_without_the_wal_index_each_read_checks_with_one_query(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("hot", "value")
    readers = _readers(kv)
    readers._index, readers._index_tried = None, True  # as when the -shm file cannot be mapped
    assert await kv.get("hot") == "value"
    seen = _statements(kv)
    assert [await kv.get("hot") for _ in range(3)] == ["value"] * 3
    assert seen == ["PRAGMA data_version"] * 3


async def test_a_cached_value_is_replaced_at_once_by_a_write_elsewhere(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("k", "before")
    assert await kv.get("k") == "before"
    _put_elsewhere(path, "k", "after")
    assert await kv.get("k") == "after"


async def test_a_key_cached_as_missing_appears_once_written_elsewhere(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    assert await kv.get("new") is None
    assert await kv.get("new") is None
    _put_elsewhere(path, "new", "here")
    assert await kv.get("new") == "here"


async def test_a_delete_elsewhere_is_seen_at_once(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("k", "v")
    assert await kv.get("k") == "v"
    _write_elsewhere(path, "DELETE FROM entries WHERE key = ?", b"k")
    assert await kv.get("k") is None


async def test_own_writes_are_seen_at_once(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    for n in range(5):
        await kv.put("k", f"v{n}")
        assert await kv.get("k") == f"v{n}"
        assert [key.name for key in (await kv.list()).keys] == ["k"]
    await kv.delete("k")
    assert await kv.get("k") is None
    assert (await kv.list()).keys == []


async def test_a_cached_list_page_sees_a_write_elsewhere(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("p:1", "v")
    assert [key.name for key in (await kv.list(prefix="p:")).keys] == ["p:1"]
    assert [key.name for key in (await kv.list(prefix="p:")).keys] == ["p:1"]  # maps the WAL index
    seen = _statements(kv)
    assert [key.name for key in (await kv.list(prefix="p:")).keys] == ["p:1"]
    assert seen == []
    _put_elsewhere(path, "p:0", "v")
    assert [key.name for key in (await kv.list(prefix="p:")).keys] == ["p:0", "p:1"]


async def test_a_cached_list_page_drops_a_key_once_it_expires(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("a", "v", expiration=TIME_NOW + 60)
    await kv.put("b", "v")
    assert [key.name for key in (await kv.list()).keys] == ["a", "b"]
    clock.advance(60)  # at the expiration second a key is still listed, as in Miniflare
    assert [key.name for key in (await kv.list()).keys] == ["a", "b"]
    clock.advance(1)
    assert [key.name for key in (await kv.list()).keys] == ["b"]


async def test_a_cached_page_says_more_follow_only_while_the_next_key_lives(
    store: SqliteStore, clock: ManualClock
) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("a", "v")
    await kv.put("b", "v", expiration=TIME_NOW + 60)
    page = await kv.list(limit=1)
    assert ([key.name for key in page.keys], page.list_complete) == (["a"], False)
    clock.advance(61)
    page = await kv.list(limit=1)
    assert ([key.name for key in page.keys], page.list_complete) == (["a"], True)


async def test_a_cached_list_page_is_not_reused_when_the_clock_goes_back(
    store: SqliteStore, clock: ManualClock
) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("a", "v", expiration=TIME_NOW + 60)
    clock.advance(100)
    assert (await kv.list()).keys == []
    clock.set(TIME_NOW)  # replaying a scenario: the key has not expired yet at this time
    assert [key.name for key in (await kv.list()).keys] == ["a"]


async def test_the_cache_is_bounded(store: SqliteStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_cache, "MAX_ENTRIES", 8)
    monkeypatch.setattr(sqlite_cache, "MAX_PAGES", 2)
    kv, _ = await _namespace(store, clock)
    await kv.put("big", "x" * (sqlite_cache.MAX_CACHED_VALUE + 1))
    for n in range(20):
        await kv.put(f"k{n:02}", "v")
    for n in range(20):
        assert await kv.get(f"k{n:02}") == "v"
        await kv.list(prefix=f"k{n:02}")
    assert await kv.get("big") == "x" * (sqlite_cache.MAX_CACHED_VALUE + 1)
    _, cache = _readers(kv).cache()
    assert list(cache._entries) == [f"k{n:02}".encode() for n in range(12, 20)]  # the newest 8; not "big"
    assert [page[0] for page in cache._pages] == [b"k18", b"k19"]


async def test_the_cache_is_bounded_in_bytes(
    store: SqliteStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_cache, "MAX_ENTRY_BYTES", 3000)
    monkeypatch.setattr(sqlite_cache, "MAX_PAGE_BYTES", 20)
    kv, _ = await _namespace(store, clock)
    for n in range(5):
        await kv.put(f"k{n}", "x" * 1000, metadata="m" * 5)
    for n in range(5):
        await kv.get(f"k{n}")
        await kv.list(prefix=f"k{n}")
    _, cache = _readers(kv).cache()
    assert list(cache._entries) == [b"k2", b"k3", b"k4"] and cache._entry_bytes == 3000
    assert [page[0] for page in cache._pages] == [b"k3", b"k4"] and cache._page_bytes == 2 * (2 + 7)


@pytest.mark.parametrize("how", ["argument", "location"])
async def test_the_cache_can_be_turned_off(tmp_path: Path, clock: ManualClock, how: str) -> None:
    # The host turns it off with WORKERHOST_READ_CACHE=0, which its config turns into the location.
    if how == "argument":
        store = SqliteStore(tmp_path, read_cache=False)
    else:
        opened = open_store(sqlite_location(tmp_path, read_cache=False))
        assert isinstance(opened, KeyedStore) and isinstance(opened.inner, SqliteStore)
        store = opened.inner
    try:
        kv, _ = await _namespace(store, clock)
        await kv.put("k", "v")
        await kv.get("k")
        await kv.list()
        seen = _statements(kv)
        assert await kv.get("k") == "v" and [key.name for key in (await kv.list()).keys] == ["k"]
        assert len(seen) == 2 and "WHERE key = " in seen[0] and "ORDER BY key" in seen[1]  # no data_version
    finally:
        await store.close()


async def test_list_returns_plain_rows_with_the_shape_of_keyinfo(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    await kv.put("k", "v", metadata={"m": 1}, expiration=TIME_NOW + 120)
    storage = kv.service.storage
    assert isinstance(storage, engine.SqliteNamespace)
    rows, more = await storage.list(b"", None, 10, clock.now())
    assert (rows, more) == ([(b"k", TIME_NOW + 120, '{"m":1}')], False)
    assert KeyInfo(*rows[0]).metadata == '{"m":1}'


@pytest.mark.parametrize("checkpoint", ["PASSIVE", "FULL", "RESTART", "TRUNCATE"])
async def test_every_write_elsewhere_is_seen_across_checkpoints_and_wal_restarts(
    store: SqliteStore, clock: ManualClock, checkpoint: str
) -> None:
    # A checkpoint lets the next writer start the WAL over from its first frame; the WAL-index
    # header must still differ from every earlier one, or a cached read would go stale.
    kv, path = await _namespace(store, clock)
    await kv.put("k", "0")
    for n in range(1, 40):
        assert await kv.get("k") == str(n - 1)
        assert await kv.get("k") == str(n - 1)  # from the cache
        _put_elsewhere(path, "k", str(n))
        if n % 3 == 0:
            _write_elsewhere(path, f"PRAGMA wal_checkpoint({checkpoint})")
    assert await kv.get("k") == "39"
