"""The storage contract: what every engine must do, tested through ``Store`` and ``NamespaceStorage`` only.

Each test runs once per engine, and with encryption on (the ``reopen`` fixture in ``conftest.py``). Nothing
here may name an engine: a test that needs to look inside one belongs beside it (``sqlite/``).
Times are plain numbers passed as ``now``: an engine never reads a clock.
"""

from __future__ import annotations

import asyncio

import pytest

from bindings import NamespaceNotFoundError, StorageError, Store
from bindings.catalog import MAX_NAMESPACES, is_namespace_id
from bindings.errors import NamespaceLimitError, NamespaceTitleError
from bindings.storage import Entry, EntryHead, EntryStream, NamespaceInfo, NamespaceStorage, Write

from .conftest import Reopen

pytestmark = pytest.mark.anyio

NOW = 1_000_000
MIB = 1024 * 1024
BIG = 300 * 1024  # over any engine's threshold for reading a value inline (SQLite's is 64 KiB)
FIXED_ID = "0f2ac74b498b48028cb68387c421e279"
BIG_KEY = b"big"


async def _storage(store: Store, title: str = "ns") -> NamespaceStorage:
    info = await store.create_namespace(title)
    return await store.namespace(info.id)


async def _keys(storage: NamespaceStorage, prefix: bytes = b"", after: bytes | None = None, now: float = NOW) -> list:
    rows, _ = await storage.list(prefix, after, 1000, now)
    return [row[0] for row in rows]


async def _read(stream: EntryStream) -> bytes:
    return b"".join([chunk async for chunk in stream.chunks])


# --- the catalog ----------------------------------------------------------------------------------


async def test_a_new_namespace_has_a_fresh_32_hex_digit_id(store: Store) -> None:
    first, second = await store.create_namespace("first"), await store.create_namespace("second")
    assert is_namespace_id(first.id) and is_namespace_id(second.id) and first.id != second.id
    assert await store.get_namespace(first.id) == first == NamespaceInfo(first.id, "first")
    assert await store.find_namespace("second") == second
    assert await store.find_namespace("third") is None


async def test_namespaces_are_listed_by_title(store: Store) -> None:
    for title in ["b", "a", "é", "B"]:
        await store.create_namespace(title)
    assert [info.title for info in await store.list_namespaces()] == ["B", "a", "b", "é"]


async def test_titles_are_unique(store: Store) -> None:
    taken = await store.create_namespace("taken")
    other = await store.create_namespace("other")
    duplicate = "^a namespace with this account ID and title already exists$"
    with pytest.raises(NamespaceTitleError, match=duplicate) as caught:
        await store.create_namespace("taken")
    assert caught.value.duplicate
    with pytest.raises(NamespaceTitleError) as caught:
        await store.rename_namespace(other.id, "taken")
    assert caught.value.duplicate
    assert [info.title for info in await store.list_namespaces()] == ["other", "taken"]
    assert await store.rename_namespace(taken.id, "renamed") == NamespaceInfo(taken.id, "renamed")
    assert await store.find_namespace("renamed") == NamespaceInfo(taken.id, "renamed")
    assert await store.find_namespace("taken") is None


@pytest.mark.parametrize("title", ["", "   ", None, "t" * 513])
async def test_bad_titles_are_refused(store: Store, title: object) -> None:
    with pytest.raises(NamespaceTitleError) as caught:
        await store.create_namespace(title)  # type: ignore[arg-type]
    assert caught.value.missing == (title != "t" * 513)
    assert await store.list_namespaces() == []
    info = await store.create_namespace("t" * 512)
    with pytest.raises(NamespaceTitleError):
        await store.rename_namespace(info.id, title)  # type: ignore[arg-type]
    assert await store.get_namespace(info.id) == info


async def test_fixed_ids(store: Store) -> None:
    assert (await store.create_namespace("links", FIXED_ID)).id == FIXED_ID
    with pytest.raises(StorageError, match="already exists"):
        await store.create_namespace("again", FIXED_ID)
    for bad in ["0F2AC74B498B48028CB68387C421E279", "abc", "../../etc/passwd", FIXED_ID + "0"]:
        with pytest.raises(StorageError, match="32 lowercase hex"):
            await store.create_namespace("bad", bad)
    assert [info.title for info in await store.list_namespaces()] == ["links"]


@pytest.mark.parametrize("namespace_id", ["0" * 32, "../../etc", "%2e%2e", "a" * 33, "", "catalog"])
async def test_unknown_or_malformed_namespace_ids_are_not_found(store: Store, namespace_id: str) -> None:
    await store.create_namespace("present")
    with pytest.raises(NamespaceNotFoundError):
        await store.namespace(namespace_id)
    assert await store.get_namespace(namespace_id) is None
    with pytest.raises(NamespaceNotFoundError):
        await store.rename_namespace(namespace_id, "renamed")
    with pytest.raises(NamespaceNotFoundError):
        await store.delete_namespace(namespace_id)
    assert [info.title for info in await store.list_namespaces()] == ["present"]


async def test_a_renamed_namespace_keeps_its_id_and_keys(store: Store) -> None:
    info = await store.create_namespace("before")
    await (await store.namespace(info.id)).put(b"k", b"v", None, None)
    await store.rename_namespace(info.id, "after")
    entry = await (await store.namespace(info.id)).get(b"k")
    assert entry is not None and entry.value == b"v"


async def test_deleting_a_namespace_deletes_its_keys(store: Store) -> None:
    info = await store.create_namespace("doomed", FIXED_ID)
    storage = await store.namespace(info.id)
    await storage.put(b"k", b"v", None, None)
    await store.delete_namespace(info.id)
    assert await store.list_namespaces() == [] and await store.get_namespace(info.id) is None
    with pytest.raises(NamespaceNotFoundError):
        await store.namespace(info.id)
    reborn = await store.namespace((await store.create_namespace("reborn", FIXED_ID)).id)
    assert await reborn.get(b"k") is None and await _keys(reborn) == []


async def test_at_most_1000_namespaces(store: Store) -> None:
    await asyncio.gather(*(store.create_namespace(f"ns{i:04}") for i in range(MAX_NAMESPACES)))
    with pytest.raises(NamespaceLimitError, match="^an account may have at most 1000 namespaces$"):
        await store.create_namespace("one too many")
    assert len(await store.list_namespaces()) == 1000
    assert await store.find_namespace("one too many") is None


# --- reading and writing keys ---------------------------------------------------------------------


async def test_get_returns_the_whole_entry_or_none(store: Store) -> None:
    storage = await _storage(store)
    assert await storage.get(b"k") is None
    await storage.put(b"k", b"value", NOW + 60, '{"m":1}')
    assert await storage.get(b"k") == Entry(b"value", 5, NOW + 60, '{"m":1}')


async def test_put_replaces_value_expiration_and_metadata_together(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"k", b"first", NOW + 60, '{"m":1}')
    await storage.put(b"k", b"second", None, None)
    assert await storage.get(b"k") == Entry(b"second", 6, None, None)


@pytest.mark.parametrize("size", [0, 1, BIG, 25 * MIB])
async def test_values_of_any_size_round_trip_as_bytes(store: Store, size: int) -> None:
    storage = await _storage(store)
    value = bytes(range(256)) * (size // 256) + b"\x00" * (size % 256)
    await storage.put(b"k", memoryview(value), None, None)
    entry = await storage.get(b"k")
    assert entry is not None and type(entry.value) is bytes and entry.value == value and entry.size == size
    [many] = await storage.get_many([b"k"])
    assert many == entry


async def test_keys_are_any_utf8_bytes_and_list_in_byte_order(store: Store) -> None:
    storage = await _storage(store)
    keys = [key.encode() for key in ["b", "a", "ab", "A", "é", "\x00", "a\x00b", "\uffff", "🎉", "~"]]
    for key in keys:
        await storage.put(key, key, None, None)
    assert await _keys(storage) == sorted(keys)
    for key in keys:
        entry = await storage.get(key)
        assert entry is not None and entry.value == key


async def test_list_prefix_is_literal_and_includes_the_key_equal_to_it(store: Store) -> None:
    storage = await _storage(store)
    for key in [b"p", b"p:", b"p:a", b"p;", b"p%", b"p_", b"q", b"p:\xf0\x9f\x8e\x89"]:
        await storage.put(key, b"v", None, None)
    assert await _keys(storage, b"p:") == [b"p:", b"p:a", b"p:\xf0\x9f\x8e\x89"]
    assert await _keys(storage, b"p%") == [b"p%"]
    assert await _keys(storage, b"p_") == [b"p_"]
    assert await _keys(storage, b"r") == []


async def test_list_pages_after_a_key_and_says_whether_more_follow(store: Store) -> None:
    storage = await _storage(store)
    for key in [b"a", b"b", b"c", b"d", b"x"]:
        await storage.put(key, b"v", NOW + 600, '{"k":1}')
    rows, more = await storage.list(b"", None, 2, NOW)
    assert (rows, more) == ([(b"a", NOW + 600, '{"k":1}'), (b"b", NOW + 600, '{"k":1}')], True)
    rows, more = await storage.list(b"", b"b", 2, NOW)
    assert ([row[0] for row in rows], more) == ([b"c", b"d"], True)
    rows, more = await storage.list(b"", b"d", 2, NOW)
    assert ([row[0] for row in rows], more) == ([b"x"], False)
    rows, more = await storage.list(b"", b"a", 3, NOW)  # strictly after; the page ends at "d"
    assert ([row[0] for row in rows], more) == ([b"b", b"c", b"d"], True)
    assert await _keys(storage, after=b"bb") == [b"c", b"d", b"x"]  # a key that is not there
    assert await _keys(storage, b"c", after=b"a") == [b"c"]  # before the prefix: from the prefix
    assert await _keys(storage, b"c", after=b"c") == []
    rows, more = await storage.list(b"", None, 5, NOW)
    assert len(rows) == 5 and not more


async def test_list_skips_keys_expired_before_now_and_keeps_those_expiring_now(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"a", b"v", NOW - 1, None)
    await storage.put(b"b", b"v", NOW, None)
    await storage.put(b"c", b"v", None, None)
    await storage.put(b"d", b"v", NOW - 1, None)
    assert await _keys(storage) == [b"b", b"c"]
    rows, more = await storage.list(b"", None, 2, NOW)
    assert ([row[0] for row in rows], more) == ([b"b", b"c"], False)  # only dead keys follow
    rows, more = await storage.list(b"", None, 1, NOW + 1)
    assert ([row[0] for row in rows], more) == ([b"c"], False)
    assert await _keys(storage, now=NOW - 10) == [b"a", b"b", b"c", b"d"]


async def test_an_engine_returns_expired_entries_the_caller_judges_them(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"k", b"v", NOW - 100, None)
    entry = await storage.get(b"k")
    assert entry is not None and entry.expiration == NOW - 100
    assert await storage.heads([b"k"]) == [EntryHead(1, NOW - 100, None)]
    stream = await storage.open(b"k")
    assert stream is not None and stream.expiration == NOW - 100
    await stream.aclose()


async def test_delete_and_delete_many(store: Store) -> None:
    storage = await _storage(store)
    await storage.put_many([Write(key, b"v") for key in [b"a", b"b", b"c", b"d"]])
    await storage.delete(b"a")
    await storage.delete(b"missing")
    await storage.delete_many([b"b", b"c", b"missing"])
    await storage.delete_many([])
    assert await _keys(storage) == [b"d"]
    assert await storage.get(b"a") is None


async def test_put_many_writes_every_pair(store: Store) -> None:
    storage = await _storage(store)
    await storage.put_many([Write(b"a", b"1"), Write(b"b", bytearray(b"2"), NOW + 60, '"m"'), Write(b"a", b"3")])
    await storage.put_many([])
    assert await storage.get_many([b"a", b"b"]) == [Entry(b"3", 1, None, None), Entry(b"2", 1, NOW + 60, '"m"')]


async def test_put_many_is_all_or_nothing(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"a", b"old", None, None)
    unstorable = Write(b"c", [1, 2, 3])  # type: ignore[arg-type]  # no engine can store a list
    with pytest.raises(StorageError):
        await storage.put_many([Write(b"a", b"new"), Write(b"b", b"new"), unstorable, Write(b"d", b"new")])
    assert await _keys(storage) == [b"a"]
    entry = await storage.get(b"a")
    assert entry is not None and entry.value == b"old"


async def test_a_reader_sees_all_of_a_put_many_or_none_of_it(store: Store) -> None:
    storage = await _storage(store)
    writes = [Write(f"k{i:04}".encode(), b"v" * 100) for i in range(1000)]
    seen: set[int] = set()
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            seen.add(len(await _keys(storage)))  # one read: one moment
            await asyncio.sleep(0)

    watcher = asyncio.ensure_future(watch())
    await storage.put_many(writes)
    done.set()
    await watcher
    seen.add(len(await _keys(storage)))
    assert seen <= {0, 1000} and 1000 in seen


# --- heads, bulk reads and streams ----------------------------------------------------------------


async def test_heads_give_size_expiration_and_metadata_in_order(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"small", b"abc", NOW + 60, '{"m":1}')
    await storage.put(b"big", b"x" * BIG, None, None)
    heads = await storage.heads([b"big", b"missing", b"small", b"big"])
    assert heads == [EntryHead(BIG, None, None), None, EntryHead(3, NOW + 60, '{"m":1}'), EntryHead(BIG, None, None)]
    assert await storage.heads([]) == []


async def test_get_many_loads_every_value_in_order(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"small", b"abc", NOW + 60, '{"m":1}')
    await storage.put(b"big", b"x" * BIG, None, None)
    assert await storage.get_many([b"big", b"missing", b"small", b"big"]) == [
        Entry(b"x" * BIG, BIG, None, None),
        None,
        Entry(b"abc", 3, NOW + 60, '{"m":1}'),
        Entry(b"x" * BIG, BIG, None, None),
    ]
    assert await storage.get_many([]) == []


@pytest.mark.parametrize("size", [0, 3, BIG, 4 * MIB])
async def test_open_streams_the_value_with_its_head(store: Store, size: int) -> None:
    storage = await _storage(store)
    value = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    await storage.put(b"k", value, NOW + 60, '{"m":1}')
    stream = await storage.open(b"k")
    assert stream is not None
    assert (stream.size, stream.expiration, stream.metadata) == (size, NOW + 60, '{"m":1}')
    assert await _read(stream) == value
    await stream.aclose()  # after the end: harmless
    assert await storage.open(b"missing") is None


@pytest.mark.parametrize("size", [3, 4 * MIB])
async def test_a_closed_stream_yields_nothing_more_and_holds_nothing(store: Store, size: int) -> None:
    storage = await _storage(store)
    await storage.put(b"k", b"a" * size, None, None)
    unread = await storage.open(b"k")
    assert unread is not None
    await unread.aclose()
    await unread.aclose()
    assert await _read(unread) == b""
    async with await storage.open(b"k") as stream:  # type: ignore[union-attr]
        first = await anext(stream.chunks)
    assert first and await _read(stream) == b""
    await storage.put(b"k", b"b", None, None)  # nothing left open stands in the way of writes
    await storage.delete(b"k")
    assert await storage.get(b"k") is None


async def test_a_stream_is_one_consistent_version(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"big", b"a" * (4 * MIB), None, None)
    stream = await storage.open(b"big")
    assert stream is not None
    first = await anext(stream.chunks)
    await storage.put(b"big", b"b" * (4 * MIB), None, None)
    rest = await _read(stream)
    assert first + rest == b"a" * (4 * MIB)
    entry = await storage.get(b"big")
    assert entry is not None and entry.value == b"b" * (4 * MIB)


# --- expiry upkeep --------------------------------------------------------------------------------


async def test_discard_expired_deletes_a_key_still_expired_when_it_runs(store: Store) -> None:
    storage = await _storage(store)
    await storage.put(b"expired", b"v", NOW - 1, None)
    await storage.put(b"not yet", b"v", NOW + 60, None)
    await storage.put(b"rewritten", b"old", NOW - 1, None)
    storage.discard_expired(b"expired", NOW)
    storage.discard_expired(b"not yet", NOW)
    storage.discard_expired(b"at now", NOW)  # missing: nothing to do
    await storage.put(b"rewritten", b"new", None, None)
    storage.discard_expired(b"rewritten", NOW)  # a stale decision: the key no longer expires
    await storage.put(b"barrier", b"v", None, None)  # discards run before writes requested after them
    assert await storage.get(b"expired") is None
    assert await _keys(storage, now=0) == [b"barrier", b"not yet", b"rewritten"]
    entry = await storage.get(b"rewritten")
    assert entry is not None and entry.value == b"new"


async def test_purge_expired_deletes_up_to_its_limit_and_counts(store: Store) -> None:
    storage = await _storage(store)
    await storage.put_many([Write(f"dead{i}".encode(), b"v", NOW - 1 - i) for i in range(5)])
    await storage.put_many([Write(b"live", b"v", NOW), Write(b"forever", b"v")])
    assert await storage.purge_expired(NOW, 3) == 3
    assert await storage.purge_expired(NOW, 3) == 2
    assert await storage.purge_expired(NOW, 3) == 0
    assert await _keys(storage, now=0) == [b"forever", b"live"]


async def test_the_store_purges_every_namespace(store: Store) -> None:
    first, second = await _storage(store, "first"), await _storage(store, "second")
    await first.put_many([Write(f"k{i}".encode(), b"v", NOW - 1) for i in range(3)])
    await second.put_many([Write(b"dead", b"v", NOW - 1), Write(b"live", b"v")])
    assert await store.purge_expired(NOW) == 4
    assert await _keys(first, now=0) == [] and await _keys(second, now=0) == [b"live"]
    assert await store.purge_expired(NOW) == 0


# --- settings -------------------------------------------------------------------------------------


async def test_a_setting_is_written_only_over_the_value_the_caller_expects(store: Store) -> None:
    assert await store.read_setting("s") is None
    assert await store.write_setting("s", "one", expected=None)
    assert not await store.write_setting("s", "two", expected=None)
    assert not await store.write_setting("s", "two", expected="none of these")
    assert await store.read_setting("s") == "one"
    assert await store.write_setting("s", '{"ü": "\u263a"}', expected="one")
    assert await store.write_setting("other", "", expected=None)  # an empty text is a value, not none
    assert not await store.write_setting("other", "x", expected=None)
    assert await store.write_setting("s", None, expected='{"ü": "\u263a"}')  # None deletes
    assert (await store.read_setting("s"), await store.read_setting("other")) == (None, "")


# --- several stores on one location ---------------------------------------------------------------


async def test_of_stores_setting_the_same_setting_at_once_exactly_one_succeeds(reopen: Reopen) -> None:
    stores = [reopen() for _ in range(4)]
    try:
        claims = (opened.write_setting("claim", f"store {i}", expected=None) for i, opened in enumerate(stores))
        wins = await asyncio.gather(*claims)
        assert sorted(wins) == [False, False, False, True]
        winner = wins.index(True)
        for other in stores:
            assert await other.read_setting("claim") == f"store {winner}"
    finally:
        for opened in stores:
            await opened.close()
    reopened = reopen()
    try:
        assert await reopened.read_setting("claim") == f"store {winner}"
    finally:
        await reopened.close()


async def test_a_second_store_on_the_same_location_sees_the_catalog(reopen: Reopen) -> None:
    first, second = reopen(), reopen()
    try:
        info = await first.create_namespace("shared")
        assert await second.get_namespace(info.id) == info
        await second.delete_namespace(info.id)
        with pytest.raises(NamespaceNotFoundError):
            await first.namespace(info.id)
    finally:
        await first.close()
        await second.close()


async def test_a_second_store_on_the_same_location_sees_every_write_at_once(reopen: Reopen) -> None:
    first, second = reopen(), reopen()
    try:
        info = await first.create_namespace("shared")
        here, there = await first.namespace(info.id), await second.namespace(info.id)
        assert await there.get(b"k") is None and await _keys(there) == []  # warm any read path
        await here.put(b"k", b"one", None, None)
        assert await there.get(b"k") == Entry(b"one", 3, None, None)
        await there.put_many([Write(b"k", b"two"), Write(b"l", b"x" * BIG)])
        assert await here.get_many([b"k", b"l"]) == [Entry(b"two", 3, None, None), Entry(b"x" * BIG, BIG, None, None)]
        assert await _keys(here) == [b"k", b"l"]
        await there.delete(b"k")
        assert await here.get(b"k") is None and await _keys(here) == [b"l"]
    finally:
        await first.close()
        await second.close()


async def test_a_namespace_deleted_by_another_store_takes_no_write(reopen: Reopen) -> None:
    # The first store has the namespace open (read and written); the second deletes it. A write must
    # not be acknowledged into the deleted namespace: it is refused as not found.
    first, second = reopen(), reopen()
    try:
        info = await first.create_namespace("doomed")
        storage = await first.namespace(info.id)
        await storage.put(b"before", b"v", None, None)
        assert await storage.get(b"before") == Entry(b"v", 1, None, None)
        await second.delete_namespace(info.id)
        for write in (
            storage.put(b"after", b"v", None, None),
            storage.put_many([Write(b"a", b"1"), Write(b"b", b"2")]),
            storage.delete(b"before"),
            storage.delete_many([b"before"]),
        ):
            with pytest.raises(NamespaceNotFoundError):
                await write
        with pytest.raises(NamespaceNotFoundError):
            await storage.get(b"before")
        with pytest.raises(NamespaceNotFoundError):
            await storage.list(b"", None, 10, NOW)
        assert await second.get_namespace(info.id) is None
    finally:
        await first.close()
        await second.close()


@pytest.mark.parametrize("order", ["delete, then create again", "delete, write, create again"])
async def test_writes_to_a_namespace_deleted_and_created_again_elsewhere_land_in_the_new_one(
    reopen: Reopen, order: str
) -> None:
    first, second = reopen(), reopen()
    try:
        await first.create_namespace("shared", FIXED_ID)
        storage = await first.namespace(FIXED_ID)
        await storage.put(b"old", b"deleted with its namespace", None, None)
        assert await storage.get(b"old") is not None and await _keys(storage) == [b"old"]  # warm every path
        await second.delete_namespace(FIXED_ID)
        if order == "delete, write, create again":
            with pytest.raises(NamespaceNotFoundError):
                await storage.put(b"lost", b"v", None, None)
        await second.create_namespace("shared again", FIXED_ID)
        await storage.put(b"new", b"acknowledged", None, None)
        await storage.put(BIG_KEY, b"x" * BIG, None, None)
        there = await second.namespace(FIXED_ID)
        for reader in (storage, there):
            assert await reader.get(b"old") is None and await reader.get(b"lost") is None
            assert await reader.get(b"new") == Entry(b"acknowledged", 12, None, None)
            assert await _keys(reader) == [BIG_KEY, b"new"]
    finally:
        await first.close()
        await second.close()
    reopened = reopen()
    try:
        assert await _keys(await reopened.namespace(FIXED_ID)) == [BIG_KEY, b"new"]
    finally:
        await reopened.close()


async def test_reads_follow_a_namespace_deleted_and_created_again_elsewhere(reopen: Reopen) -> None:
    first, second = reopen(), reopen()
    try:
        await first.create_namespace("shared", FIXED_ID)
        storage = await first.namespace(FIXED_ID)
        await storage.put(b"k", b"old", None, None)
        await storage.put(BIG_KEY, b"o" * BIG, None, None)
        assert await storage.get(b"k") == Entry(b"old", 3, None, None)
        assert await storage.get(b"k") == Entry(b"old", 3, None, None)  # from any cache
        assert await _keys(storage) == [BIG_KEY, b"k"]
        await second.delete_namespace(FIXED_ID)
        await second.create_namespace("shared again", FIXED_ID)
        there = await second.namespace(FIXED_ID)
        await there.put(b"k", b"new", None, None)
        assert await storage.get(b"k") == Entry(b"new", 3, None, None)
        assert await storage.get(BIG_KEY) is None
        assert await storage.heads([b"k", BIG_KEY]) == [EntryHead(3, None, None), None]
        assert await _keys(storage) == [b"k"]
        assert await storage.open(BIG_KEY) is None
    finally:
        await first.close()
        await second.close()


async def test_acknowledged_writes_are_there_after_close(reopen: Reopen) -> None:
    store = reopen()
    storage = await _storage(store, "kept")
    await asyncio.gather(*(storage.put(f"k{i}".encode(), b"v", None, None) for i in range(50)))
    await store.close()
    reopened = reopen()
    try:
        info = await reopened.find_namespace("kept")
        assert info is not None
        assert len(await _keys(await reopened.namespace(info.id))) == 50
    finally:
        await reopened.close()
