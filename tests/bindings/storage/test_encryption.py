"""Encryption at rest, on both engines: what reaches the store is sealed, a sealed entry is only ever
returned as the key and namespace it was written under, and a store opened with a missing or wrong key
refuses before reading or writing anything (README "Encryption at rest").

Tampering is done as someone with the store's files (or its Redis) would: through the bare engine
(``open_engine``), which stores whatever bytes it is given.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
from pathlib import Path

import pytest
import redis

from bindings import Store, open_store, sqlite_location
from bindings.errors import EncryptionError, IntegrityError
from bindings.storage import Entry, EntryHead, Write
from bindings.storage.encryption import EncryptionKey, KeyFormatError, new_key_text, verify_store
from bindings.storage.encryption.record import SETTING, KeyCheck, Record, Rekey
from bindings.storage.engines import open_engine
from tests.redis_support import RedisServer

pytestmark = pytest.mark.anyio

NOW = 1_000_000
SECRET_VALUE = b"PLAINTEXT-VALUE-must-not-be-stored" * 4
SECRET_METADATA = {"note": "PLAINTEXT-METADATA-must-not-be-stored", "n": 7}
SECRET_MARKS = (b"PLAINTEXT-VALUE", b"PLAINTEXT-METADATA", b"must-not-be-stored")


def _key(text: str | None = None) -> EncryptionKey:
    return EncryptionKey.from_text(text or new_key_text(), "the test's key")


async def _namespace_with_secrets(store: Store, title: str = "secrets") -> str:
    info = await store.create_namespace(title)
    storage = await store.namespace(info.id)
    await storage.put(b"with metadata", SECRET_VALUE, NOW + 60, json.dumps(SECRET_METADATA))
    await storage.put_many([Write(b"plain key name", SECRET_VALUE), Write(b"big", SECRET_VALUE * 3000)])
    return info.id


# --- keys -----------------------------------------------------------------------------------------


def test_a_key_is_read_from_base64_or_hex_text_and_from_a_file(tmp_path: Path) -> None:
    raw = bytes(range(32))
    forms = [
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        raw.hex(),
        raw.hex().upper(),
        f"  {raw.hex()}\n",
    ]
    keys = [EncryptionKey.from_text(form, "test") for form in forms]
    (tmp_path / "text.key").write_text(base64.b64encode(raw).decode() + "\n")
    (tmp_path / "raw.key").write_bytes(raw)
    keys += [EncryptionKey.from_file(tmp_path / "text.key"), EncryptionKey.from_file(tmp_path / "raw.key")]
    assert all(key == keys[0] and key.id == keys[0].id for key in keys)
    assert keys[0] != _key() and keys[0].id != _key().id
    assert len(keys[0].id) == 8
    assert raw.hex() not in repr(keys[0]) and base64.b64encode(raw).decode() not in repr(keys[0])


@pytest.mark.parametrize(
    "text",
    ["", "short", base64.b64encode(bytes(31)).decode(), base64.b64encode(bytes(33)).decode(), "zz" * 32, "é" * 44],
)
def test_text_that_is_not_a_32_byte_key_is_refused_without_showing_it(text: str) -> None:
    with pytest.raises(KeyFormatError, match="expected 32 bytes as base64") as caught:
        EncryptionKey.from_text(text, "KV_KEY")
    assert "KV_KEY" in str(caught.value) and (len(text) < 4 or text not in str(caught.value))


def test_a_missing_key_file_or_variable_is_refused_saying_which(tmp_path: Path) -> None:
    with pytest.raises(KeyFormatError, match="kv.key cannot be read"):
        EncryptionKey.from_file(tmp_path / "kv.key")
    (tmp_path / "kv.key").write_bytes(bytes(31))
    with pytest.raises(KeyFormatError, match="does not hold a key.*31 bytes"):
        EncryptionKey.from_file(tmp_path / "kv.key")
    with pytest.raises(KeyFormatError, match="KV_KEY, which should hold the encryption key, is not set"):
        EncryptionKey.from_environment("KV_KEY", {})


# --- nothing plain reaches the store --------------------------------------------------------------


def _sqlite_contents(kv_dir: Path) -> bytes:
    """Every column of every row of every table, through the sqlite3 module, and every file's raw bytes."""
    found = bytearray()
    for path in sorted(kv_dir.glob("*.sqlite3")):
        connection = sqlite3.connect(path)
        try:
            tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in connection.execute(f"SELECT * FROM {table}"):
                    for cell in row:
                        found += cell if isinstance(cell, bytes) else str(cell).encode()
        finally:
            connection.close()
    for path in sorted(kv_dir.iterdir()):
        found += path.read_bytes()
    return bytes(found)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain (the check sees plaintext)", "encrypted"])
async def test_the_raw_sqlite_files_hold_no_plaintext_value_or_metadata(tmp_path: Path, encrypted: bool) -> None:
    store = open_store(sqlite_location(tmp_path), key=_key() if encrypted else None)
    try:
        await _namespace_with_secrets(store)
    finally:
        await store.close()
    contents = _sqlite_contents(tmp_path / "kv")
    assert b"plain key name" in contents  # key names stay plain: listing needs their order
    for mark in SECRET_MARKS:
        assert (mark in contents) is not encrypted


def _redis_contents(server: RedisServer, prefix: str) -> bytes:
    """Every key under the prefix and everything in it, read with redis-py straight from the server."""
    client = redis.Redis(host="127.0.0.1", port=server.port)
    found = bytearray()
    try:
        for name in client.scan_iter(match=f"{{{prefix}*", count=1000):
            found += name
            kind = client.type(name)
            if kind == b"hash":
                for field, value in client.hgetall(name).items():
                    found += field + value
            elif kind == b"zset":
                found += b"".join(client.zrange(name, 0, -1))
            elif kind == b"set":
                found += b"".join(client.smembers(name))
            else:
                found += client.get(name) or b""
    finally:
        client.close()
    return bytes(found)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain (the check sees plaintext)", "encrypted"])
async def test_the_raw_redis_keys_hold_no_plaintext_value_or_metadata(
    redis_server: RedisServer, encrypted: bool
) -> None:
    prefix = f"proof-{encrypted}-{new_key_text()[:8].replace('/', 'x').replace('+', 'y')}"
    store = open_store(redis_server.location(prefix), key=_key() if encrypted else None)
    try:
        await _namespace_with_secrets(store)
        contents = _redis_contents(redis_server, prefix)
        assert b"plain key name" in contents
        for mark in SECRET_MARKS:
            assert (mark in contents) is not encrypted
    finally:
        await store.inner.destroy()  # type: ignore[attr-defined]
        await store.close()


async def test_every_write_seals_with_a_fresh_nonce(location: str) -> None:
    store, engine = open_store(location, key=_key()), open_engine(location)
    try:
        info = await store.create_namespace("ns")
        storage, raw = await store.namespace(info.id), await engine.namespace(info.id)
        sealed = []
        for _ in range(3):
            await storage.put(b"k", b"same value", None, '{"same": 1}')
            entry = await raw.get(b"k")
            assert entry is not None
            sealed.append((entry.value, entry.metadata))
        await storage.put(b"other", b"same value", None, '{"same": 1}')
        sealed.append(((await raw.get(b"other")).value, (await raw.get(b"other")).metadata))  # type: ignore[union-attr]
        assert len({value for value, _ in sealed}) == len({metadata for _, metadata in sealed}) == 4
        assert await storage.get(b"k") == Entry(b"same value", 10, None, '{"same": 1}')
    finally:
        await store.close()
        await engine.close()


# --- a sealed entry is only ever its own key's -----------------------------------------------------


async def test_a_ciphertext_copied_to_another_key_or_namespace_is_never_returned_there(location: str) -> None:
    key = _key()
    store, engine = open_store(location, key=key), open_engine(location)
    try:
        first = await store.create_namespace("first")
        second = await store.create_namespace("second")
        storage = await store.namespace(first.id)
        await storage.put(b"source", b"the source's value", None, '{"of": "source"}')
        await storage.put(b"target", b"the target's value", None, None)
        sealed = await (await engine.namespace(first.id)).get(b"source")
        assert sealed is not None
        copy = Write(b"target", sealed.value, None, sealed.metadata)
        await (await engine.namespace(first.id)).put_many([copy])  # another key, same namespace
        await (await engine.namespace(second.id)).put_many([Write(b"source", sealed.value, None, sealed.metadata)])
        for namespace_id, name in ((first.id, b"target"), (second.id, b"source")):
            reader = await store.namespace(namespace_id)
            for read in (reader.get(name), reader.get_many([name]), reader.open(name), reader.heads([name])):
                with pytest.raises(IntegrityError, match="failed its integrity check.*not returned"):
                    await read
            with pytest.raises(IntegrityError):
                await reader.list(b"", None, 10, NOW)
        # A fresh store (nothing cached) says the same; the source itself is untouched.
        fresh = open_store(location, key=key)
        try:
            with pytest.raises(IntegrityError):
                await (await fresh.namespace(first.id)).get(b"target")
            assert await (await fresh.namespace(first.id)).get(b"source") == Entry(
                b"the source's value", 18, None, '{"of": "source"}'
            )
        finally:
            await fresh.close()
    finally:
        await store.close()
        await engine.close()


async def test_a_value_is_only_returned_with_the_metadata_written_with_it(location: str) -> None:
    store, engine = open_store(location, key=_key()), open_engine(location)
    try:
        info = await store.create_namespace("ns")
        storage, raw = await store.namespace(info.id), await engine.namespace(info.id)
        await storage.put(b"k", b"old", None, '{"v": "old"}')
        old = await raw.get(b"k")
        await storage.put(b"k", b"new", None, '{"v": "new"}')
        new = await raw.get(b"k")
        await storage.put(b"bare", b"no metadata", None, None)
        bare = await raw.get(b"bare")
        assert old is not None and new is not None and bare is not None
        for value, metadata, name in (
            (new.value, old.metadata, b"k"),  # each half is this key's, of different writes
            (old.value, new.metadata, b"k"),
            (new.value, bare.metadata, b"k"),  # metadata dropped
            (bare.value, new.metadata, b"bare"),  # metadata added
        ):
            await raw.put(name, value, None, metadata)
            with pytest.raises(IntegrityError):
                await storage.get(name)
        # Listing reads metadata alone: it is still checked against its key and namespace.
        await raw.put(b"k", new.value, None, old.metadata)
        rows, _ = await storage.list(b"k", None, 10, NOW)
        assert rows == [(b"k", None, '{"v": "old"}')]
    finally:
        await store.close()
        await engine.close()


async def test_a_copy_made_after_a_cached_read_is_refused_not_served_from_memory(location: str) -> None:
    store, engine = open_store(location, key=_key()), open_engine(location)
    try:
        info = await store.create_namespace("ns")
        storage, raw = await store.namespace(info.id), await engine.namespace(info.id)
        await storage.put(b"a", b"value of a", None, None)
        await storage.put(b"b", b"value of b", None, None)
        for _ in range(2):
            assert (await storage.get(b"b")).value == b"value of b"  # type: ignore[union-attr]  # now cached
        sealed = await raw.get(b"a")
        assert sealed is not None
        await raw.put(b"b", sealed.value, None, sealed.metadata)
        with pytest.raises(IntegrityError):
            await storage.get(b"b")
    finally:
        await store.close()
        await engine.close()


async def test_a_listed_page_kept_in_memory_follows_every_change_and_check(location: str) -> None:
    store, engine = open_store(location, key=_key()), open_engine(location)
    try:
        info = await store.create_namespace("ns")
        storage, raw = await store.namespace(info.id), await engine.namespace(info.id)
        await storage.put(b"p:a", b"a", None, '{"v": "a1"}')
        await storage.put(b"p:b", b"b", None, '{"v": "b1"}')
        first = [(b"p:a", None, '{"v": "a1"}'), (b"p:b", None, '{"v": "b1"}')]
        for _ in range(3):  # the same page again and again: kept
            rows, more = await storage.list(b"p:", None, 10, NOW)
            assert (rows, more) == (first, False)
            rows.clear()  # a caller's changes to its page never reach the kept one
        await storage.put(b"p:a", b"a", None, '{"v": "a2"}')
        assert (await storage.list(b"p:", None, 10, NOW))[0] == [(b"p:a", None, '{"v": "a2"}'), first[1]]
        await storage.put(b"p:c", b"c", NOW + 5, None)
        assert (await storage.list(b"p:", None, 2, NOW)) == ([(b"p:a", None, '{"v": "a2"}'), first[1]], True)
        assert (await storage.list(b"p:", None, 10, NOW + 10))[0] == [(b"p:a", None, '{"v": "a2"}'), first[1]]
        # Someone with the files copies a's sealed metadata onto b: the next listing checks it again.
        sealed_a, sealed_b = await raw.get(b"p:a"), await raw.get(b"p:b")
        assert sealed_a is not None and sealed_b is not None
        await raw.put(b"p:b", sealed_b.value, None, sealed_a.metadata)
        with pytest.raises(IntegrityError, match="failed its integrity check"):
            await storage.list(b"p:", None, 10, NOW)
        await storage.delete(b"p:b")
        assert (await storage.list(b"p:", None, 10, NOW))[0] == [(b"p:a", None, '{"v": "a2"}'), (b"p:c", NOW + 5, None)]
    finally:
        await store.close()
        await engine.close()


async def test_entries_of_a_plain_writer_or_another_key_are_refused_in_an_encrypted_store(location: str) -> None:
    store, engine = open_store(location, key=_key()), open_engine(location)
    other = open_store(location, key=_key())
    try:
        info = await store.create_namespace("ns")
        storage, raw = await store.namespace(info.id), await engine.namespace(info.id)
        await storage.put(b"sealed", b"v", None, None)
        await raw.put(b"plain", b"written without the key", None, '{"a": 1}')
        await raw.put(b"plain, no metadata", b"written without the key", None, None)
        for name in (b"plain", b"plain, no metadata"):
            with pytest.raises(IntegrityError, match="stored unencrypted in an encrypted store") as caught:
                await storage.get(name)
            assert caught.value.reason == "plain data"
        with pytest.raises(IntegrityError, match="unencrypted"):
            await storage.list(b"plain", None, 10, NOW)
        # Another key's entry (its store forced open past the key check, as a stray writer would be).
        other._verified = True  # type: ignore[attr-defined]
        await (await other.namespace(info.id)).put(b"foreign", b"v", None, None)
        with pytest.raises(IntegrityError, match="encrypted with another key") as caught:
            await storage.get(b"foreign")
        assert caught.value.reason == "wrong key"
        assert await storage.get(b"sealed") == Entry(b"v", 1, None, None)
    finally:
        await store.close()
        await engine.close()
        await other.close()


async def test_heads_give_the_plain_size_and_metadata(location: str) -> None:
    store = open_store(location, key=_key())
    try:
        storage = await store.namespace((await store.create_namespace("ns")).id)
        await storage.put(b"k", b"12345", NOW, '{"a": "\\u00e9\\ud800"}')
        await storage.put(b"empty", b"", None, "")
        assert await storage.heads([b"k", b"none", b"empty"]) == [
            EntryHead(5, NOW, '{"a": "\\u00e9\\ud800"}'),
            None,
            EntryHead(0, None, ""),
        ]
        assert await storage.get(b"empty") == Entry(b"", 0, None, "")
    finally:
        await store.close()


# --- the key check at start -----------------------------------------------------------------------


async def _setting(location: str) -> str | None:
    engine = open_engine(location)
    try:
        return await engine.read_setting(SETTING)
    finally:
        await engine.close()


async def test_a_wrong_or_missing_key_is_refused_before_anything_is_read_or_written(location: str) -> None:
    key = _key()
    store = open_store(location, key=key)
    try:
        namespace_id = await _namespace_with_secrets(store)
    finally:
        await store.close()
    record = await _setting(location)
    assert record is not None and key.id in record
    for opened, reason, message in (
        (open_store(location, key=_key()), "wrong key", f"encrypted with another key \\(id {key.id}\\)"),
        (open_store(location), "no key", f"is encrypted \\(key id {key.id}\\), and no key was given"),
    ):
        try:
            with pytest.raises(EncryptionError, match=message) as caught:
                await verify_store(opened)
            assert caught.value.reason == reason
            for call in (opened.list_namespaces(), opened.namespace(namespace_id), opened.create_namespace("new")):
                with pytest.raises(EncryptionError):
                    await call
        finally:
            await opened.close()
    assert await _setting(location) == record
    store = open_store(location, key=EncryptionKey.from_text(base64.b64encode(key._secret).decode(), "again"))
    try:
        assert [info.title for info in await store.list_namespaces()] == ["secrets"]
        assert (await (await store.namespace(namespace_id)).get(b"plain key name")).value == SECRET_VALUE  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_a_key_given_for_a_store_of_plain_entries_is_refused_and_nothing_is_written(location: str) -> None:
    plain = open_store(location)
    try:
        namespace_id = await _namespace_with_secrets(plain)
    finally:
        await plain.close()
    store = open_store(location, key=_key())
    try:
        with pytest.raises(EncryptionError, match="holds unencrypted entries") as caught:
            await store.namespace(namespace_id)
        assert caught.value.reason == "plain data"
    finally:
        await store.close()
    assert await _setting(location) is None
    plain = open_store(location)
    try:
        assert (await (await plain.namespace(namespace_id)).get(b"plain key name")).value == SECRET_VALUE  # type: ignore[union-attr]
    finally:
        await plain.close()


async def test_an_empty_store_is_claimed_by_the_first_key_and_refused_to_the_others(location: str) -> None:
    plain = open_store(location)
    try:
        await plain.create_namespace("empty but there")  # namespaces without entries hold nothing plain
    finally:
        await plain.close()
    keys = [_key() for _ in range(3)]
    stores = [open_store(location, key=key) for key in keys]
    try:
        outcomes = await asyncio.gather(*(verify_store(store) for store in stores), return_exceptions=True)
        winners = [key for key, outcome in zip(keys, outcomes, strict=True) if outcome is None]
        assert len(winners) == 1
        assert all(isinstance(o, EncryptionError) and o.reason == "wrong key" for o in outcomes if o is not None)
        record = await _setting(location)
        assert record is not None and winners[0].id in record
    finally:
        for store in stores:
            await store.close()


async def test_a_store_is_refused_while_a_rekey_is_under_way(location: str) -> None:
    key = _key()
    engine = open_engine(location)
    try:
        record = Record(None, Rekey(KeyCheck.of(key), frozenset()))
        assert await engine.write_setting(SETTING, record.text(), expected=None)
    finally:
        await engine.close()
    for opened in (open_store(location), open_store(location, key=key)):
        try:
            expected = f"rekey .* under way \\(from plain to key {key.id}, 0 namespaces"
            with pytest.raises(EncryptionError, match=expected):
                await opened.list_namespaces()
        finally:
            await opened.close()


async def test_a_store_opened_without_a_key_works_on_plain_entries_and_reaches_the_engine(location: str) -> None:
    store = open_store(location)
    try:
        info = await store.create_namespace("ns")
        storage = await store.namespace(info.id)
        await storage.put(b"k", b"v", None, '{"a": 1}')
        assert await storage.get(b"k") == Entry(b"v", 1, None, '{"a": 1}')
        assert storage is await store.inner.namespace(info.id)  # type: ignore[attr-defined]  # no layer in between
        assert await _setting(location) is None  # a plain store writes no record
    finally:
        await store.close()
