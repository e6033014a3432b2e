"""One namespace: indexed reads inline, writes through its file's writer, by namespace id.

Reads run on the calling thread (the event loop) when they are short: an indexed lookup of a small
value costs a few microseconds, far less than handing it to a thread. Values over ``INLINE_MAX``
are read on a worker thread, and streams read chunk by chunk from one snapshot (``streams``), so a
25 MiB value never stalls the loop and is never held in more than one copy by the reader.

A ``SqliteNamespace`` holds no file itself: each operation takes the namespace's open file from the
store's pool (``pool``), which opens it by its catalog entry when needed. So a namespace whose file the
pool closed opens again, and one that was deleted and created again, by this process or any other,
is found in its new file. An operation whose file turns out deleted (``FileRetired``) looks the
namespace up again and retries; if it is gone, it raises ``NamespaceNotFoundError``.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ...errors import NamespaceNotFoundError
from ..base import Buffer, Entry, EntryHead, EntryStream, KeyRow, Write
from .cache import MISS, ReadCache
from .locking import translate_error
from .pool import FilePool, OpenFile
from .readers import NamespaceReaders
from .streams import Snapshot, open_snapshot
from .upkeep import DISCARD_EXPIRED, purge_file
from .writer import FileRetired

__all__ = ["INLINE_MAX", "NamespaceFiles", "SqliteNamespace"]

T = TypeVar("T")

INLINE_MAX = 64 * 1024  # larger values are read off the event loop
_ATTEMPTS = 3  # a namespace deleted and created again this many times during one operation is not found
_KEY_CEILING = b"\xff"  # above every UTF-8 string: 0xFF never occurs in UTF-8

_GET = f"SELECT expiration, metadata, size, CASE WHEN size <= {INLINE_MAX} THEN value END FROM entries WHERE key = ?"
_GET_FULL = "SELECT expiration, metadata, size, value FROM entries WHERE key = ?"
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
_REPLACE = (
    "UPDATE entries SET expiration = ?, metadata = ?, size = ?, value = ? "
    "WHERE key = ? AND value = ? AND expiration IS ? AND metadata IS ?"
)


def prefix_ceiling(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string that starts with ``prefix``."""
    if not prefix:
        return _KEY_CEILING
    return prefix[:-1] + bytes([prefix[-1] + 1])  # UTF-8 never ends in 0xFF, so this cannot overflow


class NamespaceFiles(Protocol):
    """What a namespace needs of its store: its open file, and the settings for reading it."""

    pool: FilePool
    kv_dir: Path
    lock_timeout: float
    stream_timeout: float

    async def open_file(self, namespace_id: str) -> OpenFile:
        """The namespace's file, opened if needed (once the pool has room); raises ``NamespaceNotFoundError``."""
        ...

    def current_path(self, namespace_id: str) -> Path:
        """The namespace's file by the catalog; raises ``NamespaceNotFoundError``."""
        ...


class SqliteNamespace:
    """The ``NamespaceStorage`` of one namespace of a ``SqliteStore``."""

    def __init__(self, namespace_id: str, files: NamespaceFiles) -> None:
        self.namespace_id = namespace_id
        self._files = files
        self._file: OpenFile | None = None

    def __repr__(self) -> str:
        return f"SqliteNamespace({self.namespace_id!r})"

    # --- the open file ---------------------------------------------------------------------------

    async def _open(self) -> OpenFile:
        file = self._file
        if file is None or not file.live:
            file = self._file = await self._files.open_file(self.namespace_id)
        return file

    def _open_reader(self) -> tuple[OpenFile, sqlite3.Connection, ReadCache] | None:
        """``_reader`` without awaiting, while the file is open: a cached read then suspends nowhere."""
        file = self._file
        if file is None or not file.live:
            return None
        try:
            connection, cache = file.readers.cache()
        except FileRetired:
            self._files.pool.discard(file)  # said once: the next check of this file would pass
            return None
        file.touch()
        return file, connection, cache

    async def _reader(self) -> tuple[OpenFile, sqlite3.Connection, ReadCache]:
        """The open file with this thread's checked connection and cache."""
        opened = self._open_reader()
        if opened is not None:
            return opened
        for _ in range(_ATTEMPTS):
            file = await self._open()
            try:
                connection, cache = file.readers.cache()
            except FileRetired:
                self._files.pool.discard(file)
                continue
            file.touch()
            return file, connection, cache
        raise NamespaceNotFoundError(self.namespace_id)

    async def _read(self, query: str, parameters: Sequence[Any]) -> list[Any]:
        _, connection, _ = await self._reader()
        try:
            return connection.execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc

    async def _on_thread(self, read: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``read`` on a worker thread, with a checked connection of the namespace's file."""
        for _ in range(_ATTEMPTS):
            file, _, _ = await self._reader()
            file.users += 1
            try:
                return await asyncio.to_thread(_borrowing, file.readers, read)
            except FileRetired:
                self._files.pool.discard(file)
            finally:
                self._files.pool.release(file)
        raise NamespaceNotFoundError(self.namespace_id)

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        for _ in range(_ATTEMPTS):
            file = await self._open()
            file.touch()
            file.users += 1
            try:
                result: T = await file.writer.submit(work)
                return result
            except FileRetired:
                self._files.pool.discard(file)
            finally:
                self._files.pool.release(file)
        raise NamespaceNotFoundError(self.namespace_id)

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes) -> Entry | None:
        _, connection, cache = self._open_reader() or await self._reader()
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
            return await self._on_thread(lambda connection: _get_full(connection, key))
        entry = Entry(value, size, expiration, metadata)
        cache.keep_entry(key, entry)
        return entry

    async def open(self, key: bytes) -> EntryStream | None:
        rows = await self._read(_GET, (key,))
        if not rows:
            return None
        expiration, metadata, size, value = rows[0]
        if value is not None:
            return EntryStream(size, expiration, metadata, _one_chunk(value))
        for _ in range(_ATTEMPTS):
            file, _, _ = await self._reader()
            file.users += 1
            try:
                opened = await _open_snapshot(file.path, key)
            except FileRetired:
                self._files.pool.release(file)
                self._files.pool.discard(file)
                continue
            except BaseException:
                self._files.pool.release(file)
                raise
            if opened is None:
                self._files.pool.release(file)
                return None
            connection, blob, (expiration, metadata, size) = opened
            chunks = Snapshot(
                connection,
                blob,
                spill_dir=self._files.kv_dir,
                timeout=self._files.stream_timeout,
                on_release=functools.partial(self._files.pool.release, file),
            )
            return EntryStream(size, expiration, metadata, chunks)
        raise NamespaceNotFoundError(self.namespace_id)

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        if not keys:
            return []
        query = f"SELECT key, size, expiration, metadata FROM entries WHERE key IN ({_marks(len(keys))})"
        found = {row[0]: EntryHead(*row[1:]) for row in await self._read(query, keys)}
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
        for key, expiration, metadata, size, value in await self._read(query, keys):
            if value is None:
                large.append(key)
            else:
                found[key] = Entry(value, size, expiration, metadata)
        if large:
            # One key at a time: each value is up to 25 MiB, and a statement holds its rows until done.
            found.update(await self._on_thread(lambda connection: {key: _get_full(connection, key) for key in large}))
        return [found.get(key) for key in keys]

    async def list(self, prefix: bytes, start_after: bytes | None, limit: int, now: float) -> tuple[list[KeyRow], bool]:
        _, connection, cache = await self._reader()
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

    # Each write returns nothing: the cursor stays with the writer thread (see ``sqlite_writer._own``).

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        row = (key, expiration, metadata, len(value), value)
        await self._write(lambda connection: _run(connection, _UPSERT, [row]))

    async def put_many(self, writes: Sequence[Write]) -> None:
        rows = [(w.key, w.expiration, w.metadata, len(w.value), w.value) for w in writes]
        await self._write(lambda connection: _run(connection, _UPSERT, rows))

    async def replace_many(self, writes: Sequence[Write], expected: Sequence[Entry]) -> int:
        rows = [
            (w.expiration, w.metadata, len(w.value), w.value, w.key, old.value, old.expiration, old.metadata)
            for w, old in zip(writes, expected, strict=True)
        ]
        return await self._write(lambda connection: _count(connection, _REPLACE, rows))

    async def delete(self, key: bytes) -> None:
        await self._write(lambda connection: _run(connection, _DELETE, [(key,)]))

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        rows = [(key,) for key in keys]
        await self._write(lambda connection: _run(connection, _DELETE, rows))

    def discard_expired(self, key: bytes, now: float) -> None:
        file = self._file
        if file is not None and file.live:  # the key was just read, so the file is open
            file.writer.submit_nowait(lambda connection: _run(connection, DISCARD_EXPIRED, [(key, now)]))

    async def purge_expired(self, now: float, limit: int) -> int:
        path = self._files.current_path(self.namespace_id)
        try:
            return await asyncio.to_thread(purge_file, path, now, limit, self._files.lock_timeout, repeat=False)
        except FileRetired:
            raise NamespaceNotFoundError(self.namespace_id) from None


def _borrowing(readers: NamespaceReaders, read: Callable[[sqlite3.Connection], T]) -> T:
    with readers.borrowed() as connection:
        try:
            return read(connection)
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc


def _get_full(connection: sqlite3.Connection, key: bytes) -> Entry | None:
    rows = connection.execute(_GET_FULL, (key,)).fetchall()
    return Entry(rows[0][3], rows[0][2], rows[0][0], rows[0][1]) if rows else None


Opened = tuple[sqlite3.Connection, sqlite3.Blob, tuple[Any, ...]]


async def _open_snapshot(path: Path, key: bytes) -> Opened | None:
    # If the caller is cancelled meanwhile, the snapshot the thread opens anyway is closed, not leaked:
    # an open read transaction would keep the file's log from ever being reset.
    opening = asyncio.ensure_future(asyncio.to_thread(open_snapshot, path, key))
    try:
        opened: Opened | None = await asyncio.shield(opening)
        return opened
    except asyncio.CancelledError:
        opening.add_done_callback(_close_unwanted)
        raise


def _close_unwanted(opening: asyncio.Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None and opening.result() is not None:
        connection, blob, _ = opening.result()
        blob.close()
        connection.close()


def _run(connection: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if len(rows) == 1:
        connection.execute(sql, rows[0])
    else:
        connection.executemany(sql, rows).close()


def _count(connection: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    # Row by row: a statement's rowcount is its own; an int crosses back to the loop, no cursor does.
    changed = 0
    for row in rows:
        cursor = connection.execute(sql, row)
        changed += cursor.rowcount
        cursor.close()
    return changed


def _marks(count: int) -> str:
    return ",".join("?" * count)


async def _one_chunk(value: bytes) -> AsyncGenerator[bytes, None]:
    yield value
