"""One namespace in its own SQLite file: indexed reads inline, writes through the group-commit writer.

Reads run on the calling thread (the event loop) when they are short: an indexed lookup of a small
value costs a few microseconds, far less than handing it to a thread. Values over ``INLINE_MAX``
are read on a worker thread, and streams read chunk by chunk from one snapshot, so a 25 MiB value
never stalls the loop and is never held in more than one copy by the reader.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ...errors import StorageError
from ..base import Buffer, Entry, EntryHead, EntryStream, KeyRow, Write
from .cache import MISS, ReadCache
from .files import connect_reader
from .walindex import WalIndex
from .writer import GroupCommitWriter, translate_error

__all__ = ["INLINE_MAX", "ReaderConnections", "SqliteNamespace"]

T = TypeVar("T")

INLINE_MAX = 64 * 1024  # larger values are read off the event loop
_CHUNK = 256 * 1024
_FREE_PAGES_TO_VACUUM = 256  # return free pages to the disk once this many pile up
_KEY_CEILING = b"\xff"  # above every UTF-8 string: 0xFF never occurs in UTF-8

_GET = f"SELECT expiration, metadata, size, CASE WHEN size <= {INLINE_MAX} THEN value END FROM entries WHERE key = ?"
_GET_FULL = "SELECT expiration, metadata, size, value FROM entries WHERE key = ?"
_GET_ROWID = "SELECT id, expiration, metadata, size FROM entries WHERE key = ?"
_LIST_FROM = (
    "SELECT key, expiration, metadata FROM entries WHERE key >= ? AND key < ? "
    "AND (expiration IS NULL OR expiration >= ?) ORDER BY key LIMIT ?"
)
_LIST_AFTER = (
    "SELECT key, expiration, metadata FROM entries WHERE key > ? AND key < ? "
    "AND (expiration IS NULL OR expiration >= ?) ORDER BY key LIMIT ?"
)
_UPSERT = (
    "INSERT INTO entries (key, expiration, metadata, size, value) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET expiration = excluded.expiration, metadata = excluded.metadata, "
    "size = excluded.size, value = excluded.value"
)
_DELETE = "DELETE FROM entries WHERE key = ?"
# Strictly before now: at the exact second a key is no longer gettable but still listable.
_DISCARD_EXPIRED = "DELETE FROM entries WHERE key = ? AND expiration < ?"
_ANY_EXPIRED = "SELECT 1 FROM entries WHERE expiration < ? LIMIT 1"
_PURGE = "DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE expiration < ? LIMIT ?)"


def prefix_ceiling(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string that starts with ``prefix``."""
    if not prefix:
        return _KEY_CEILING
    return prefix[:-1] + bytes([prefix[-1] + 1])  # UTF-8 never ends in 0xFF, so this cannot overflow


class ReaderConnections:
    """One read connection per thread for a database file, all closable from one place.

    Args:
        path: the database file.
        cache: keep a ``ReadCache`` per connection (otherwise ``cache()`` gives one that keeps nothing).
    """

    def __init__(self, path: Path, cache: bool = False) -> None:
        self.path = path
        self._cache = cache
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._index: WalIndex | None = None  # the file's WAL-index header, for the caches' checks
        self._index_tried = False

    def get(self) -> sqlite3.Connection:
        try:
            connection: sqlite3.Connection = self._local.connection
        except AttributeError:
            return self._open()
        return connection

    def cache(self) -> tuple[sqlite3.Connection, ReadCache]:
        """This thread's connection and its cache, checked against the file (so safe to use at once)."""
        local = self._local
        try:
            connection, cache = local.connection, local.cache
        except AttributeError:
            connection, cache = self._open(), local.cache
        try:
            cache.check(connection, self._index)
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc
        if self._index is None and not self._index_tried and cache.enabled:
            self._map_index()  # the check above opened the file in WAL mode, so its -shm exists now
        return connection, cache

    def _map_index(self) -> None:
        with self._lock:
            if self._index_tried or self._closed:
                return
            self._index_tried = True
            try:
                self._index = WalIndex(self.path)
            except (OSError, ValueError):
                pass  # the caches keep asking SQLite with a query; slower, as correct

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"{self.path.name} is closed")
        connection = connect_reader(self.path)
        with self._lock:
            self._all.append(connection)
        self._local.connection = connection
        self._local.cache = ReadCache(self._cache)
        return connection

    def read(self, query: str, parameters: Sequence[Any]) -> list[Any]:
        """Run one query to completion (so no read transaction stays open) and return its rows."""
        try:
            return self.get().execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc

    def close(self) -> None:
        """Close the connections; ``release`` the WAL index once no other connection has the file open."""
        self._closed = True
        with self._lock:
            connections, self._all = self._all, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def release(self) -> None:
        """Unmap the WAL index. Only after every connection of this process to the file has closed:
        closing its descriptor earlier would drop SQLite's locks on the file (``sqlite_walindex``)."""
        with self._lock:
            index, self._index = self._index, None
        if index is not None:
            index.close()


class SqliteNamespace:
    """The ``NamespaceStorage`` of one namespace file.

    Args:
        path: the namespace file.
        writer: the store's group-commit writer.
        read_cache: keep recent reads while the file is unchanged (``sqlite_cache``).
    """

    def __init__(self, path: Path, writer: GroupCommitWriter, *, read_cache: bool = True) -> None:
        self.path = path
        self._writer = writer
        self._readers = ReaderConnections(path, cache=read_cache)

    def __repr__(self) -> str:
        return f"SqliteNamespace({str(self.path)!r})"

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes) -> Entry | None:
        connection, cache = self._readers.cache()
        entry = cache.entry(key)
        if entry is not MISS:
            return entry
        try:
            rows = connection.execute(_GET, (key,)).fetchall()
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc
        if not rows:
            cache.keep_entry(key, None)
            return None
        expiration, metadata, size, value = rows[0]
        if value is None:
            return await asyncio.to_thread(self._get_blocking, key)
        entry = Entry(value, size, expiration, metadata)
        cache.keep_entry(key, entry)
        return entry

    def _get_blocking(self, key: bytes) -> Entry | None:
        rows = self._readers.read(_GET_FULL, (key,))
        return Entry(rows[0][3], rows[0][2], rows[0][0], rows[0][1]) if rows else None

    async def open(self, key: bytes) -> EntryStream | None:
        rows = self._readers.read(_GET, (key,))
        if not rows:
            return None
        expiration, metadata, size, value = rows[0]
        if value is not None:
            return EntryStream(size, expiration, metadata, _one_chunk(value))
        return await asyncio.to_thread(self._open_snapshot, key)

    def _open_snapshot(self, key: bytes) -> EntryStream | None:
        # A private connection holding one read transaction: the stream is one consistent version
        # of the value even if it is overwritten while the caller reads.
        connection = connect_reader(self.path)
        try:
            connection.execute("BEGIN")
            rows = connection.execute(_GET_ROWID, (key,)).fetchall()
            if not rows:
                _close_snapshot(connection, None)
                return None
            rowid, expiration, metadata, size = rows[0]
            blob = connection.blobopen("entries", "value", rowid, readonly=True)
        except BaseException as exc:
            _close_snapshot(connection, None)
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc) from exc
            raise
        return EntryStream(size, expiration, metadata, _blob_chunks(connection, blob))

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        if not keys:
            return []
        query = f"SELECT key, size, expiration, metadata FROM entries WHERE key IN ({_marks(len(keys))})"
        found = {row[0]: EntryHead(*row[1:]) for row in self._readers.read(query, keys)}
        return [found.get(key) for key in keys]

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]:
        if not keys:
            return []
        # Small values come with the lookup, inline; the large ones are then read on a thread.
        query = (
            f"SELECT key, expiration, metadata, size, CASE WHEN size <= {INLINE_MAX} THEN value END "
            f"FROM entries WHERE key IN ({_marks(len(keys))})"
        )
        found: dict[bytes, Entry | None] = {}
        large: list[bytes] = []
        for key, expiration, metadata, size, value in self._readers.read(query, keys):
            if value is None:
                large.append(key)
            else:
                found[key] = Entry(value, size, expiration, metadata)
        if large:
            found.update(await asyncio.to_thread(self._get_many_blocking, large))
        return [found.get(key) for key in keys]

    def _get_many_blocking(self, keys: list[bytes]) -> dict[bytes, Entry | None]:
        # One key at a time: each value is up to 25 MiB, and a statement holds its rows until done.
        return {key: self._get_blocking(key) for key in keys}

    async def list(self, prefix: bytes, start_after: bytes | None, limit: int, now: float) -> tuple[list[KeyRow], bool]:
        connection, cache = self._readers.cache()
        page_key = (prefix, start_after, limit)
        page = cache.page(page_key, now)
        if page is None:
            if start_after is not None and start_after >= prefix:
                query, low = _LIST_AFTER, start_after
            else:
                query, low = _LIST_FROM, prefix
            try:
                fetched = connection.execute(query, (low, prefix_ceiling(prefix), now, limit + 1)).fetchall()
            except sqlite3.Error as exc:
                raise translate_error(exc) from exc
            page = cache.keep_page(page_key, fetched, limit, now)
        return list(page.rows), page.more

    # --- writes ----------------------------------------------------------------------------------

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        result: T = await self._writer.submit(self.path, work)
        return result

    # Each write returns nothing: the cursor stays with the writer thread (see ``sqlite_writer._own``).

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        row = (key, expiration, metadata, len(value), value)
        await self._write(lambda connection: _run(connection, _UPSERT, [row]))

    async def put_many(self, writes: Sequence[Write]) -> None:
        rows = [(w.key, w.expiration, w.metadata, len(w.value), w.value) for w in writes]
        await self._write(lambda connection: _run(connection, _UPSERT, rows))

    async def delete(self, key: bytes) -> None:
        await self._write(lambda connection: _run(connection, _DELETE, [(key,)]))

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        rows = [(key,) for key in keys]
        await self._write(lambda connection: _run(connection, _DELETE, rows))

    def discard_expired(self, key: bytes, now: float) -> None:
        self._writer.submit_nowait(self.path, lambda connection: _run(connection, _DISCARD_EXPIRED, [(key, now)]))

    async def purge_expired(self, now: float, limit: int) -> int:
        # Ask the cheap questions inline first, so an idle namespace costs no commit (and no fsync).
        free_pages = self._readers.read("PRAGMA freelist_count", ())[0][0]
        if not self._readers.read(_ANY_EXPIRED, (now,)) and free_pages < _FREE_PAGES_TO_VACUUM:
            return 0

        def purge(connection: sqlite3.Connection) -> int:
            deleted = connection.execute(_PURGE, (now, limit)).rowcount
            if connection.execute("PRAGMA freelist_count").fetchone()[0] >= _FREE_PAGES_TO_VACUUM:
                connection.execute("PRAGMA incremental_vacuum").fetchall()
            return int(deleted)

        return await self._write(purge)

    def close(self) -> None:
        """Close this process's read connections (the writer's is closed by the store)."""
        self._readers.close()

    def release(self) -> None:
        """Let go of the file entirely: call after ``close`` and after the writer's connection closed."""
        self._readers.release()


def _run(connection: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if len(rows) == 1:
        connection.execute(sql, rows[0])
    else:
        connection.executemany(sql, rows).close()


def _marks(count: int) -> str:
    return ",".join("?" * count)


async def _one_chunk(value: bytes) -> AsyncGenerator[bytes, None]:
    yield value


async def _blob_chunks(connection: sqlite3.Connection, blob: sqlite3.Blob) -> AsyncGenerator[bytes, None]:
    try:
        while True:
            chunk = await asyncio.to_thread(blob.read, _CHUNK)
            if not chunk:
                return
            yield chunk
    finally:
        _close_snapshot(connection, blob)


def _close_snapshot(connection: sqlite3.Connection, blob: sqlite3.Blob | None) -> None:
    if blob is not None:
        blob.close()
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()
