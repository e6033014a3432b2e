"""Rekey on both engines: every entry moves from plain to a key, from key to key, and back to plain,
exactly as written (value, metadata, expiration, expired or not); the store's record says where it
stands at each step; keys that do not fit are refused before anything changes; and a write made while
a rekey runs is never overwritten (README "Encryption at rest"). Killing it midway: ``tests/reliability``.
"""

from __future__ import annotations

import pytest

from bindings import Store, open_store
from bindings.errors import EncryptionError
from bindings.storage import Entry, NamespaceInfo, Write
from bindings.storage.base import ConditionalWrites
from bindings.storage.encryption import EncryptionKey, new_key_text, verify_store
from bindings.storage.encryption.envelope import sealed_with
from bindings.storage.encryption.record import SETTING, parse_record
from bindings.storage.encryption.rekey import rekey
from bindings.storage.engines import open_engine

pytestmark = pytest.mark.anyio

NOW = 1_000_000
BIG = 300 * 1024


def _key() -> EncryptionKey:
    return EncryptionKey.from_text(new_key_text(), "the test's key")


def _entries() -> dict[str, dict[bytes, Entry]]:
    """Two namespaces' worth: metadata or none, expirations (one long past), empty and big values, odd keys."""
    first = {
        b"plain": Entry(b"value", 5, None, None),
        b"meta": Entry(b"with metadata", 13, NOW + 600, '{"a": [1, 2], "\\u00e9": null}'),
        b"expired long ago": Entry(b"still stored", 12, 60, '"x"'),
        b"empty": Entry(b"", 0, None, ""),
        "ключ \u263a".encode(): Entry(b"\x00\xff binary", 9, None, None),
        b"big": Entry(bytes(range(256)) * (BIG // 256), BIG, None, '{"big": true}'),
    }
    second = {f"k{i:04d}".encode(): Entry(f"v{i}".encode(), len(f"v{i}"), None, None) for i in range(2500)}
    return {"first": first, "second": second}


async def _fill(store: Store) -> dict[str, str]:
    ids = {}
    for title, entries in _entries().items():
        info = await store.create_namespace(title)
        ids[title] = info.id
        storage = await store.namespace(info.id)
        await storage.put_many([Write(k, e.value, e.expiration, e.metadata) for k, e in entries.items()])
    await store.create_namespace("empty namespace")
    return ids


async def _check(location: str, key: EncryptionKey | None, ids: dict[str, str]) -> None:
    """Every entry reads back as written through a store with ``key``, and is stored in ``key``'s form."""
    store, engine = open_store(location, key=key), open_engine(location)
    try:
        for title, entries in _entries().items():
            storage, raw = await store.namespace(ids[title]), await engine.namespace(ids[title])
            names = list(entries)
            assert await storage.get_many(names) == list(entries.values())
            stored = await raw.get_many(names)
            want = None if key is None else key.id_bytes
            assert all(entry is not None and sealed_with(entry.metadata) == want for entry in stored)
    finally:
        await store.close()
        await engine.close()


async def _record(location: str) -> str | None:
    engine = open_engine(location)
    try:
        return await engine.read_setting(SETTING)
    finally:
        await engine.close()


async def _rekey(location: str, old: EncryptionKey | None, new: EncryptionKey | None) -> object:
    engine = open_engine(location)
    try:
        return await rekey(engine, old, new)
    finally:
        await engine.close()


async def test_a_store_goes_plain_to_a_key_to_another_key_and_back_to_plain(location: str) -> None:
    plain = open_store(location)
    try:
        ids = await _fill(plain)
    finally:
        await plain.close()
    first, second = _key(), _key()
    result = await _rekey(location, None, first)
    assert (result.namespaces, result.rewritten, result.already, result.resumed) == (3, 2506, 0, False)  # type: ignore[attr-defined]
    await _check(location, first, ids)
    record = parse_record(await _record(location), "")
    assert record is not None and record.rekey is None and record.key is not None and record.key.opens_with(first)
    await _rekey(location, first, second)
    await _check(location, second, ids)
    stale = open_store(location, key=first)
    try:
        with pytest.raises(EncryptionError, match="encrypted with another key"):
            await verify_store(stale)
    finally:
        await stale.close()
    await _rekey(location, second, None)
    await _check(location, None, ids)
    assert await _record(location) is None
    assert (await _rekey(location, None, None)).nothing_to_do  # type: ignore[attr-defined]


async def test_keys_that_do_not_fit_the_store_are_refused_before_anything_changes(location: str) -> None:
    key = _key()
    store = open_store(location, key=key)
    try:
        ids = await _fill(store)
    finally:
        await store.close()
    record = await _record(location)
    for old, new, message in (
        (None, _key(), "is encrypted with key .*, but the old key given is no key"),
        (_key(), _key(), "is encrypted with key .*, but the old key given is key"),
        (key, EncryptionKey(key._secret, "same again"), None),  # already there: nothing to do
    ):
        if message is None:
            assert (await _rekey(location, old, new)).nothing_to_do  # type: ignore[attr-defined]
            continue
        with pytest.raises(EncryptionError, match=message):
            await _rekey(location, old, new)
    assert await _record(location) == record
    await _check(location, key, ids)


async def test_a_rekey_under_way_is_finished_only_with_its_own_keys(location: str) -> None:
    old, new = _key(), _key()
    store = open_store(location, key=old)
    try:
        ids = await _fill(store)
    finally:
        await store.close()

    class Stop(Exception):
        pass

    class StopMidway:
        def started(self, namespaces: int, keys: int) -> None: ...
        def namespace(self, info: NamespaceInfo, index: int, keys: int) -> None:
            if index == 2:
                raise Stop  # as if killed after the first namespace

        def advanced(self, keys: int) -> None: ...

    engine = open_engine(location)
    try:
        with pytest.raises(Stop):
            await rekey(engine, old, new, StopMidway())
    finally:
        await engine.close()
    record = parse_record(await _record(location), "")
    assert record is not None and record.rekey is not None and len(record.rekey.done) == 1
    for opened in (open_store(location, key=old), open_store(location, key=new), open_store(location)):
        with pytest.raises(EncryptionError, match="rekey .* is under way") as caught:
            await verify_store(opened)
        assert caught.value.reason == "rekeying"
        await opened.close()
    with pytest.raises(EncryptionError, match="from key .* to key .* is under way; to finish it, run it again"):
        await _rekey(location, old, _key())
    result = await _rekey(location, old, new)
    left = sum(len(entries) for title, entries in _entries().items() if ids[title] not in record.rekey.done)
    assert result.resumed and result.rewritten == left  # type: ignore[attr-defined]  # the namespaces not done
    await _check(location, new, ids)


async def test_an_entry_changed_after_it_was_read_is_not_replaced(location: str) -> None:
    engine = open_engine(location)
    try:
        info = await engine.create_namespace("ns")
        storage = await engine.namespace(info.id)
        assert isinstance(storage, ConditionalWrites)
        await storage.put_many([Write(b"a", b"1", None, None), Write(b"b", b"1", 5, '{"m": 1}'), Write(b"c", b"1")])
        read = await storage.get_many([b"a", b"b", b"c", b"gone"])
        await storage.put(b"a", b"written meanwhile", None, None)
        await storage.put(b"b", b"1", 5, '{"m": 2}')  # same value, other metadata: changed too
        await storage.delete(b"c")
        expected = [entry for entry in read[:3] if entry is not None]
        writes = [Write(b"a", b"2"), Write(b"b", b"2"), Write(b"c", b"2")]
        assert await storage.replace_many(writes, expected) == 0
        assert await storage.get_many([b"a", b"b", b"c"]) == [
            Entry(b"written meanwhile", 17, None, None),
            Entry(b"1", 1, 5, '{"m": 2}'),
            None,
        ]
        now = await storage.get_many([b"a", b"b"])
        assert await storage.replace_many([Write(b"a", b"3"), Write(b"b", b"3", 7)], [e for e in now if e]) == 2
        assert await storage.get_many([b"a", b"b"]) == [Entry(b"3", 1, None, None), Entry(b"3", 1, 7, None)]
    finally:
        await engine.close()


class _HostLeftRunning:
    """The engine, as a rekey sees it, while a host that started before the rekey (so past its key check)
    writes with the old key: one new key each time the rekey lists the namespaces, up to ``writes``."""

    def __init__(self, engine: Store, host: Store, namespace_id: str, writes: int) -> None:
        self.engine, self.host, self.namespace_id, self.writes = engine, host, namespace_id, writes
        self.written: list[bytes] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine, name)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        if len(self.written) < self.writes:
            name = f"late {len(self.written)}".encode()
            await (await self.host.namespace(self.namespace_id)).put(name, b"acknowledged", None, '{"late": 1}')
            self.written.append(name)
        return await self.engine.list_namespaces()


@pytest.mark.parametrize("writes", [2, 10], ids=["stops writing: the rekey finishes", "keeps writing: it refuses"])
async def test_a_host_left_running_loses_no_write_and_the_rekey_finishes_only_once_it_stops(
    location: str, writes: int
) -> None:
    old, new = _key(), _key()
    store = open_store(location, key=old)
    host = open_store(location, key=old)
    engine = open_engine(location)
    try:
        ids = await _fill(store)
        await verify_store(host)
        running = _HostLeftRunning(engine, host, ids["first"], writes)
        if writes > 3:
            with pytest.raises(EncryptionError, match="kept being written in the old form.*nothing was lost"):
                await rekey(running, old, new)  # type: ignore[arg-type]
            record = parse_record(await engine.read_setting(SETTING), "")
            assert record is not None and record.rekey is not None  # still under way: hosts refuse the store
            raw = await engine.namespace(ids["first"])
            rows, _ = await raw.list(b"late", None, 1000, 0)
            assert [row[0] for row in rows] == sorted(running.written)
            assert {sealed_with(field) for _, _, field in rows} <= {old.id_bytes, new.id_bytes}
            await rekey(engine, old, new)  # stopped now: it finishes
        else:
            await rekey(running, old, new)  # type: ignore[arg-type]
    finally:
        await engine.close()
        await host.close()
        await store.close()
    await _check(location, new, ids)
    store = open_store(location, key=new)
    try:
        storage = await store.namespace(ids["first"])
        for name in running.written:
            assert await storage.get(name) == Entry(b"acknowledged", 12, None, '{"late": 1}')
    finally:
        await store.close()


async def test_a_write_made_between_the_rekeys_read_and_its_write_back_is_kept(location: str) -> None:
    old, new = _key(), _key()
    store = open_store(location, key=old)
    host = open_store(location, key=old)
    engine = open_engine(location)
    try:
        ids = await _fill(store)
        await verify_store(host)
        raw = await engine.namespace(ids["first"])
        read = raw.get_many
        raced: list[bytes] = []

        async def get_many_then_a_host_writes(keys: list[bytes]) -> list[Entry | None]:
            entries = await read(keys)
            if not raced:  # once: the rekey has read the entries and is about to write them back
                raced.append(keys[0])
                await (await host.namespace(ids["first"])).put(keys[0], b"written in between", None, None)
            return entries

        raw.get_many = get_many_then_a_host_writes  # type: ignore[method-assign]  # the engine's own handle
        await rekey(engine, old, new)
    finally:
        await engine.close()
        await host.close()
        await store.close()
    store = open_store(location, key=new)
    try:
        assert await (await store.namespace(ids["first"])).get(raced[0]) == Entry(b"written in between", 18, None, None)
    finally:
        await store.close()
