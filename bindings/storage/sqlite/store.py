"""The embedded default store: a catalog of namespaces plus one SQLite file per namespace.

See ``files`` for the layout and why SQLite, ``lifecycle`` for how namespaces are created and deleted
safely, and ``pool`` for which files stay open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from ... import catalog
from ...errors import NamespaceNotFoundError, StorageError
from ..base import NamespaceInfo
from ..durability import DURABLE, Durability
from . import lifecycle
from .catalogfile import Catalog
from .files import LOCK_TIMEOUT_SECONDS, cap_pages, file_name, join_setups, no_sync
from .namespace import SqliteNamespace
from .pool import FilePool, OpenFile, default_capacity
from .streams import DEFAULT_STREAM_TIMEOUT
from .upkeep import purge_file
from .writer import FileRetired, FileWriter, Setup

__all__ = ["SqliteStore"]

_PURGE_BATCH = 10_000


class SqliteStore:
    """Namespaces persisted under ``<persist_to>/kv/``.

    Args:
        persist_to: the persist directory (created if missing).
        read_cache: keep recent reads in memory while their file is unchanged (``sqlite_cache``).
        max_pages: cap every database file at this many pages (4 KiB each), so a write that would
            grow one past it fails with ``StorageFullError`` as on a full disk; None for no cap.
            For fault testing; ``set_max_pages`` changes it while the store runs.
        lock_timeout: seconds a write waits for a file's write lock held by another process before it
            fails with ``StorageLockedError`` (``files.LOCK_TIMEOUT_SECONDS``).
        stream_timeout: seconds a value stream may go unread before it is abandoned (``streams``).
        max_open: how many namespace files stay open at most (``pool``); None derives it from the
            process's descriptor limit.
        sync: sync every commit to disk before it is acknowledged (``synchronous=FULL``). Off, for
            stores thrown away after a test, commits skip the sync and the store says it is not durable.

    Any number of stores, in this process or others, may open the same directory at once.
    ``open_store(sqlite_location(...))`` builds one from a location string (``sqlite_location``).
    """

    def __init__(
        self,
        persist_to: str | Path,
        *,
        read_cache: bool = True,
        max_pages: int | None = None,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        stream_timeout: float = DEFAULT_STREAM_TIMEOUT,
        max_open: int | None = None,
        sync: bool = True,
    ) -> None:
        self.root = Path(persist_to).resolve()
        self.read_cache = read_cache
        self.kv_dir = self.root / "kv"
        self.lock_timeout = lock_timeout
        self.stream_timeout = stream_timeout
        self.sync = sync
        self._page_cap: Setup | None = None if max_pages is None else cap_pages(max_pages)
        self._setup = join_setups(self._page_cap, None if sync else no_sync)
        self._catalog = Catalog(self.kv_dir, lock_timeout=lock_timeout, setup=self._current_setup)
        self.pool = FilePool(default_capacity() if max_open is None else max_open)
        self._namespaces: dict[str, SqliteNamespace] = {}
        self._ready = False
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.root)!r})"

    def _current_setup(self) -> Setup | None:
        return self._setup

    async def _prepare(self) -> None:
        # Deferred from __init__ so constructing a store does no I/O.
        if self._ready:
            return
        self.kv_dir.mkdir(parents=True, exist_ok=True)
        self._catalog.create()
        if lifecycle.leftovers(self._catalog, self.kv_dir):
            await asyncio.to_thread(lifecycle.clean_up, self._catalog, self.kv_dir)
        self._ready = True

    def namespace_path(self, namespace_id: str) -> Path:
        """The file holding a namespace's keys now; raises ``NamespaceNotFoundError``."""
        generation = self._catalog.generation(namespace_id) if catalog.is_namespace_id(namespace_id) else None
        if generation is None:
            raise NamespaceNotFoundError(namespace_id)
        return self.kv_dir / file_name(namespace_id, generation)

    current_path = namespace_path  # what a namespace's storage asks for (``namespace.NamespaceFiles``)

    async def open_file(self, namespace_id: str) -> OpenFile:
        """The namespace's file from the pool, opened (and checked) if need be; raises ``NamespaceNotFoundError``.

        Opening waits for room in the pool (``FilePool.make_room``).
        """
        generation, file = self._pooled(namespace_id)
        if file is None:
            await self.pool.make_room()
            generation, file = self._pooled(namespace_id)  # the catalog or the pool may have changed meanwhile
        return file if file is not None else self._open_file(namespace_id, generation)

    def _pooled(self, namespace_id: str) -> tuple[int, OpenFile | None]:
        """The namespace's current generation, and its file if the pool holds that one open."""
        if self._closed:
            raise StorageError("the store is closed")
        generation = self._catalog.generation(namespace_id)
        if generation is None:
            raise NamespaceNotFoundError(namespace_id)
        file = self.pool.get(namespace_id)
        return generation, file if file is not None and file.live and file.generation == generation else None

    def _open_file(self, namespace_id: str, generation: int) -> OpenFile:
        path = self.kv_dir / file_name(namespace_id, generation)
        file = OpenFile(
            namespace_id,
            generation,
            path,
            read_cache=self.read_cache,
            lock_timeout=self.lock_timeout,
            setup=self._current_setup,
        )
        self.pool.add(file)
        try:
            file.readers.cache()  # opens the file, and looks for a tombstone in it
        except FileRetired:
            self.pool.discard(file)
            raise NamespaceNotFoundError(namespace_id) from None
        except StorageError:
            self.pool.discard(file)
            if not path.exists():
                raise NamespaceNotFoundError(namespace_id) from None
            raise
        return file

    # --- catalog reads ---------------------------------------------------------------------------

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        if not catalog.is_namespace_id(namespace_id):
            return None
        await self._prepare()
        rows = self._catalog.read("SELECT id, title FROM namespaces WHERE id = ?", (namespace_id,))
        return NamespaceInfo(*rows[0]) if rows else None

    async def find_namespace(self, title: str) -> NamespaceInfo | None:
        await self._prepare()
        rows = self._catalog.read("SELECT id, title FROM namespaces WHERE title = ?", (title,))
        return NamespaceInfo(*rows[0]) if rows else None

    async def list_namespaces(self) -> list[NamespaceInfo]:
        await self._prepare()
        rows = self._catalog.read("SELECT id, title FROM namespaces ORDER BY title, id")
        return [NamespaceInfo(*row) for row in rows]

    async def namespace(self, namespace_id: str) -> SqliteNamespace:
        if await self.get_namespace(namespace_id) is None:
            raise NamespaceNotFoundError(namespace_id)
        handle = self._namespaces.get(namespace_id)
        if handle is None:
            handle = self._namespaces[namespace_id] = SqliteNamespace(namespace_id, self)
        return handle

    # --- catalog writes --------------------------------------------------------------------------

    async def create_namespace(self, title: str, namespace_id: str | None = None) -> NamespaceInfo:
        catalog.check_title(title)
        namespace_id = catalog.new_namespace_id() if namespace_id is None else catalog.check_namespace_id(namespace_id)
        await self._prepare()
        await asyncio.to_thread(lifecycle.create, self._catalog, self.kv_dir, namespace_id, title)
        return NamespaceInfo(namespace_id, title)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        catalog.check_title(title)
        await self._prepare()

        def rename(connection: sqlite3.Connection) -> None:
            try:
                cursor = connection.execute("UPDATE namespaces SET title = ? WHERE id = ?", (title, namespace_id))
            except sqlite3.IntegrityError:  # the title column is UNIQUE: the check and the write are one statement
                raise catalog.duplicate_title() from None
            if cursor.rowcount == 0:
                raise NamespaceNotFoundError(namespace_id)

        await asyncio.to_thread(self._catalog.write, rename)
        return NamespaceInfo(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        if not catalog.is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        await self._prepare()
        generation = self._catalog.generation(namespace_id)
        if generation is None:
            raise NamespaceNotFoundError(namespace_id)
        try:
            await asyncio.to_thread(
                lifecycle.delete, self._catalog, self.kv_dir, namespace_id, generation, self.lock_timeout
            )
        finally:
            file = self.pool.get(namespace_id)
            if file is not None and file.generation == generation:
                self.pool.discard(file)
                await asyncio.to_thread(file.writer.join)  # nothing of the deleted file stays open here

    # --- settings --------------------------------------------------------------------------------

    async def read_setting(self, name: str) -> str | None:
        await self._prepare()
        rows = self._catalog.read("SELECT value FROM settings WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    async def write_setting(self, name: str, value: str | None, *, expected: str | None) -> bool:
        await self._prepare()

        def swap(connection: sqlite3.Connection) -> bool:
            rows = connection.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchall()
            if (rows[0][0] if rows else None) != expected:
                return False
            if value is None:
                connection.execute("DELETE FROM settings WHERE name = ?", (name,))
            else:
                connection.execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value))
            return True

        return await asyncio.to_thread(self._catalog.write, swap)

    # --- upkeep ----------------------------------------------------------------------------------

    async def purge_expired(self, now: float) -> int:
        """Purge every namespace in turn, each on a connection of its own (``upkeep``).

        A namespace that cannot be purged (its file locked too long) does not stop the others; the
        first such error is raised once all were tried.
        """
        await self._prepare()
        total = 0
        failed: StorageError | None = None
        for namespace_id, generation in self._catalog.read("SELECT id, generation FROM namespaces ORDER BY id"):
            path = self.kv_dir / file_name(namespace_id, generation)
            try:
                total += await asyncio.to_thread(purge_file, path, now, _PURGE_BATCH, self.lock_timeout)
            except FileRetired:
                continue  # deleted meanwhile
            except StorageError as exc:
                failed = failed or exc
        if failed is not None:
            raise failed
        return total

    async def set_max_pages(self, max_pages: int | None) -> None:
        """Cap every database file at ``max_pages`` pages from now on (None lifts the cap); see ``__init__``.

        It applies once the writes queued before it are done, to open files and to files opened later.
        """
        self._page_cap = cap_pages(max_pages)
        self._setup = join_setups(self._page_cap, None if self.sync else no_sync)
        assert self._setup is not None
        waits = [file.writer.configure(self._setup) for file in self.pool.files()]
        await asyncio.gather(*(wait for wait in waits if wait is not None))

    async def durability(self) -> Durability:
        """Durable unless the store was opened with ``sync=off`` (README "Storage")."""
        if self.sync:
            return DURABLE
        return Durability(
            False,
            "sync=off: commits are not synced to disk",
            risk="Acknowledged KV writes of the last moments can be lost if this machine crashes",
            fix="For every acknowledged write to survive, leave sync on (a store made for throwaway tests has it off).",
        )

    async def close(self) -> None:
        self._closed = True
        writers = self.pool.close()
        await asyncio.to_thread(_join, writers)
        self._catalog.close()


def _join(writers: list[FileWriter]) -> None:
    for writer in writers:
        writer.join()
