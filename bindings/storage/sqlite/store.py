"""The embedded default store: a catalog of namespaces plus one SQLite file per namespace.

See ``sqlite_files`` for the layout and why SQLite. Catalog changes go through the same
group-commit writer as key writes, so they are durable before they are acknowledged too.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from ... import catalog
from ...errors import NamespaceNotFoundError
from ..base import NamespaceInfo
from .files import cap_pages, connect_writer, create_catalog_file, create_namespace_file
from .namespace import ReaderConnections, SqliteNamespace
from .writer import GroupCommitWriter

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

    Any number of stores, in this process or others, may open the same directory at once.
    ``open_store(sqlite_location(...))`` builds one from a location string (``sqlite_location``).
    """

    def __init__(self, persist_to: str | Path, *, read_cache: bool = True, max_pages: int | None = None) -> None:
        self.root = Path(persist_to).resolve()
        self.read_cache = read_cache
        self.kv_dir = self.root / "kv"
        self._catalog_path = self.kv_dir / "catalog.sqlite3"
        self._writer = GroupCommitWriter(connect_writer, None if max_pages is None else cap_pages(max_pages))
        self._catalog = ReaderConnections(self._catalog_path)
        self._namespaces: dict[str, SqliteNamespace] = {}
        self._ready = False

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.root)!r})"

    def _ensure_catalog(self) -> None:
        # Deferred from __init__ so constructing a store does no I/O.
        if not self._ready:
            self.kv_dir.mkdir(parents=True, exist_ok=True)
            create_catalog_file(self._catalog_path)
            self._ready = True

    def namespace_path(self, namespace_id: str) -> Path:
        """The file of a namespace. Only a well-formed id ever becomes part of a path."""
        if not catalog.is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        return self.kv_dir / f"{namespace_id}.sqlite3"

    # --- catalog reads ---------------------------------------------------------------------------

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        if not catalog.is_namespace_id(namespace_id):
            return None
        self._ensure_catalog()
        rows = self._catalog.read("SELECT id, title FROM namespaces WHERE id = ?", (namespace_id,))
        return NamespaceInfo(*rows[0]) if rows else None

    async def find_namespace(self, title: str) -> NamespaceInfo | None:
        self._ensure_catalog()
        rows = self._catalog.read("SELECT id, title FROM namespaces WHERE title = ?", (title,))
        return NamespaceInfo(*rows[0]) if rows else None

    async def list_namespaces(self) -> list[NamespaceInfo]:
        self._ensure_catalog()
        rows = self._catalog.read("SELECT id, title FROM namespaces ORDER BY title, id", ())
        return [NamespaceInfo(*row) for row in rows]

    async def namespace(self, namespace_id: str) -> SqliteNamespace:
        if await self.get_namespace(namespace_id) is None:
            raise NamespaceNotFoundError(namespace_id)
        handle = self._namespaces.get(namespace_id)
        if handle is None:
            path = self.namespace_path(namespace_id)
            handle = self._namespaces[namespace_id] = SqliteNamespace(path, self._writer, read_cache=self.read_cache)
        return handle

    # --- catalog writes --------------------------------------------------------------------------

    async def create_namespace(self, title: str, namespace_id: str | None = None) -> NamespaceInfo:
        catalog.check_title(title)
        namespace_id = catalog.new_namespace_id() if namespace_id is None else catalog.check_namespace_id(namespace_id)
        self._ensure_catalog()
        path = self.namespace_path(namespace_id)
        existed = path.exists()
        await asyncio.to_thread(create_namespace_file, path)
        created_on = datetime.now(UTC).isoformat(timespec="milliseconds")

        def insert(connection: sqlite3.Connection) -> None:
            (count,) = connection.execute("SELECT count(*) FROM namespaces").fetchone()
            catalog.check_namespace_count(count)
            if connection.execute("SELECT 1 FROM namespaces WHERE id = ?", (namespace_id,)).fetchone():
                raise catalog.duplicate_id(namespace_id)
            _insert_or_update(connection, "INSERT INTO namespaces VALUES (?, ?, ?)", (namespace_id, title, created_on))

        try:
            await self._writer.submit(self._catalog_path, insert)
        except BaseException:
            if not existed:
                _remove_files(path)
            raise
        return NamespaceInfo(namespace_id, title)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        catalog.check_title(title)
        self._ensure_catalog()

        def rename(connection: sqlite3.Connection) -> None:
            sql = "UPDATE namespaces SET title = ? WHERE id = ?"
            cursor = _insert_or_update(connection, sql, (title, namespace_id))
            if cursor.rowcount == 0:
                raise NamespaceNotFoundError(namespace_id)

        await self._writer.submit(self._catalog_path, rename)
        return NamespaceInfo(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        path = self.namespace_path(namespace_id)
        self._ensure_catalog()

        def delete(connection: sqlite3.Connection) -> None:
            if connection.execute("DELETE FROM namespaces WHERE id = ?", (namespace_id,)).rowcount == 0:
                raise NamespaceNotFoundError(namespace_id)

        await self._writer.submit(self._catalog_path, delete)
        # The catalog no longer lists it, so nobody can open it; drop our connections, then the file.
        handle = self._namespaces.pop(namespace_id, None)
        if handle is not None:
            handle.close()
        await self._writer.forget(path)
        if handle is not None:
            handle.release()  # every connection of ours to the file is closed now
        await asyncio.to_thread(_remove_files, path)

    # --- upkeep ----------------------------------------------------------------------------------

    async def purge_expired(self, now: float) -> int:
        total = 0
        for info in await self.list_namespaces():
            try:
                namespace = await self.namespace(info.id)
            except NamespaceNotFoundError:
                continue  # deleted meanwhile
            while (deleted := await namespace.purge_expired(now, _PURGE_BATCH)) == _PURGE_BATCH:
                total += deleted
            total += deleted
        return total

    async def set_max_pages(self, max_pages: int | None) -> None:
        """Cap every database file at ``max_pages`` pages from now on (None lifts the cap); see ``__init__``.

        It applies once the writes queued before it are done, to open files and to files opened later.
        """
        await self._writer.configure(cap_pages(max_pages))

    async def close(self) -> None:
        await asyncio.to_thread(self._writer.close)
        for handle in self._namespaces.values():
            handle.close()
        for handle in self._namespaces.values():
            handle.release()  # after the writer's and the readers' connections closed
        self._namespaces.clear()
        self._catalog.close()


def _insert_or_update(connection: sqlite3.Connection, sql: str, parameters: tuple[str, ...]) -> sqlite3.Cursor:
    try:
        return connection.execute(sql, parameters)
    except sqlite3.IntegrityError:  # the title column is UNIQUE: the check and the write are one statement
        raise catalog.duplicate_title() from None


def _remove_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
