"""The WAL-index header the read cache watches: it changes with every commit, from anywhere, and only then.

Real SQLite files in a temp dir, written by plain ``sqlite3`` connections as another process would.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bindings import SqliteStore
from bindings.storage.sqlite.walindex import HEADER_BYTES, WalIndex, consistent, header_is_valid

pytestmark = pytest.mark.anyio


def _database(tmp_path: Path) -> tuple[Path, sqlite3.Connection]:
    path = tmp_path / "db.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    return path, connection


def test_the_header_changes_with_every_commit_and_never_otherwise(tmp_path: Path) -> None:
    path, writer = _database(tmp_path)
    index = WalIndex(path)
    try:
        seen = set()
        header = index.header()
        for n in range(200):
            reader = sqlite3.connect(path)
            assert reader.execute("SELECT count(*) FROM t").fetchone() == (n,)
            reader.close()
            assert index.header() == header  # reads and opening or closing connections change nothing
            assert header is not None and header_is_valid(header)
            seen.add(header)
            writer.execute("INSERT INTO t (v) VALUES ('x')")
            if n % 50 == 49:
                writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            header = index.header()
            assert header not in seen  # never an earlier header again, even after a WAL restart
        writer.execute("BEGIN")
        writer.execute("INSERT INTO t (v) VALUES ('x')")
        assert index.header() == header  # not before the commit
        writer.execute("ROLLBACK")
        assert index.header() == header  # nor for a rollback
    finally:
        writer.close()


def test_one_reading_of_both_copies_changes_with_every_commit_and_holds_the_header(tmp_path: Path) -> None:
    # The read cache compares one reading of both copies with the last one; equal means no commit.
    path, writer = _database(tmp_path)
    index = WalIndex(path)
    try:
        copies = index.copies()
        seen = {copies}
        for n in range(60):
            header = consistent(copies)
            assert len(copies) == 2 * HEADER_BYTES and header == index.header()
            assert header is not None and header_is_valid(header)
            assert index.copies() == copies  # no commit, no change
            writer.execute("INSERT INTO t (v) VALUES ('x')")
            if n % 20 == 19:
                writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copies = index.copies()
            assert copies not in seen
            seen.add(copies)
        assert consistent(copies[:HEADER_BYTES] + bytes(HEADER_BYTES)) is None  # copies that differ: a rewrite
    finally:
        writer.close()


def test_a_damaged_header_is_not_trusted(tmp_path: Path) -> None:
    path, writer = _database(tmp_path)
    index = WalIndex(path)
    try:
        header = index.header()
        assert header is not None and len(header) == HEADER_BYTES
        for offset in (8, 16, 24, 40):  # change counter, frame count, salt, checksum
            damaged = bytearray(header)
            damaged[offset] ^= 0x01
            assert not header_is_valid(bytes(damaged))
        uninitialised = bytearray(header)
        uninitialised[12] = 0
        assert not header_is_valid(bytes(uninitialised))
    finally:
        writer.close()


def test_a_file_without_a_wal_index_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rollback.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (k)")
    connection.close()
    with pytest.raises(OSError):
        WalIndex(path)


def _shm_descriptors() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith("-shm") or target.endswith("-shm (deleted)"):
            found.append(target)
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list descriptors")
async def test_the_store_opens_no_descriptor_of_its_own_on_a_wal_index(tmp_path: Path) -> None:
    # Closing any descriptor of a file drops every POSIX lock the process holds on it, SQLite's too:
    # the store reads SQLite's own mapping, so each -shm file has exactly SQLite's one descriptor.
    before = _shm_descriptors()
    store = SqliteStore(tmp_path / "persist")
    kept = await store.create_namespace("kept")
    dropped = await store.create_namespace("dropped")
    paths = {}
    for info in (kept, dropped):
        namespace = await store.namespace(info.id)
        await namespace.put(b"k", b"v", None, None)
        await namespace.get(b"k")
        file, _, _ = await namespace._reader()
        assert file.readers._index is not None  # the header is read from shared memory
        paths[info.id] = str(store.namespace_path(info.id))
    opened = [target for target in _shm_descriptors() if target not in before and "catalog" not in target]
    assert sorted(opened) == sorted(f"{path}-shm" for path in paths.values())
    await store.delete_namespace(dropped.id)
    assert not any(paths[dropped.id] in target for target in _shm_descriptors())
    await store.close()
    assert [target for target in _shm_descriptors() if target not in before] == []
