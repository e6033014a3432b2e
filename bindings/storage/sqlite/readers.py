"""Read connections: one per thread for inline reads, closable from one place; for a namespace file, each
with its read cache and checked against the file before every read.

A namespace file can be deleted while this process reads it: another process deletes the namespace,
commits the file's tombstone and unlinks it, and maybe creates the namespace again in a new file. A
connection opened before keeps reading the old one. Deleting it is a commit, though, so the check
every read makes anyway (has anything committed since? ``sqlite_cache``) notices it, and only then,
when the file has changed, is the tombstone looked for: the hot read of an unchanged file pays nothing
for it. A connection that finds it raises ``FileRetired``, and the namespace is looked up again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import StorageError
from .cache import ReadCache
from .files import connect_reader, is_marked
from .locking import translate_error
from .walindex import WalIndex
from .writer import FileRetired

__all__ = ["NamespaceReaders", "ThreadConnections"]

_SPARES = 1  # connections kept for reads on worker threads; more are opened while needed, then closed


class ThreadConnections:
    """One read connection per thread for a database file, all closable from one place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        try:
            connection: sqlite3.Connection = self._local.connection
        except AttributeError:
            return self._open()
        return connection

    def _open(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"{self.path.name} is closed")
        connection = connect_reader(self.path)
        with self._lock:
            self._all.append(connection)
        self._local.connection = connection
        return connection

    def read(self, query: str, parameters: Sequence[Any]) -> list[Any]:
        """Run one query to completion (so no read transaction stays open) and return its rows."""
        try:
            return self.get().execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise translate_error(exc) from exc

    def close(self) -> None:
        """Close every thread's connection; a later ``get`` raises ``StorageError``."""
        self._closed = True
        with self._lock:
            connections, self._all = self._all, []
        self._local = threading.local()
        for connection in connections:
            connection.close()


class NamespaceReaders(ThreadConnections):
    """The read connections of one namespace file, each checked against the file before every read.

    Args:
        path: the namespace file.
        cache: keep a ``ReadCache`` per connection; off, reads still notice a deleted file.
    """

    def __init__(self, path: Path, *, cache: bool) -> None:
        super().__init__(path)
        self._cache = cache
        self._index: WalIndex | None = None  # the file's WAL-index header, for the checks
        self._index_tried = False
        self._spares: list[tuple[sqlite3.Connection, int | None]] = []  # with the data_version last seen

    def _open(self) -> sqlite3.Connection:
        if self._closed:  # closed under the caller (its namespace deleted): look it up again
            raise FileRetired(self.path.name)
        connection = super()._open()
        # Both under one name, so the hot read makes one thread-local lookup (~50 ns each), not two.
        self._local.reader = (connection, ReadCache(self._cache))
        return connection

    def cache(self) -> tuple[sqlite3.Connection, ReadCache]:
        """This thread's connection and its cache, checked against the file (so safe to use at once).

        Raises ``FileRetired`` if the file turns out to hold a deleted namespace.
        """
        try:
            connection, cache = self._local.reader
        except AttributeError:
            self._open()
            connection, cache = self._local.reader
        try:
            if cache.check(connection, self._index):
                self._changed(connection)
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc
        return connection, cache

    def _failure(self, exc: sqlite3.Error) -> BaseException:
        # A file unlinked under a connection that had not read it yet fails with "disk I/O error".
        return FileRetired(self.path.name) if not self.path.exists() else translate_error(exc)

    def _changed(self, connection: sqlite3.Connection) -> None:
        if self._index is None and not self._index_tried:
            self._map_index()  # the check just read the file in WAL mode, so SQLite has its -shm mapped
        if is_marked(connection):
            raise FileRetired(self.path.name)

    def _map_index(self) -> None:
        with self._lock:
            if self._index_tried or self._closed:
                return
            self._index_tried = True
            try:
                self._index = WalIndex(self.path)
            except (OSError, ValueError):
                pass  # the checks keep asking SQLite with a query; slower, as correct

    def read(self, query: str, parameters: Sequence[Any]) -> list[Any]:
        """Run one query to completion on this thread's checked connection and return its rows."""
        connection, _ = self.cache()
        try:
            return connection.execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    @contextmanager
    def borrowed(self) -> Iterator[sqlite3.Connection]:
        """A checked connection for a read on a worker thread (a large value), returned afterwards.

        The check is ``PRAGMA data_version``, then the tombstone if anything committed: a query, which
        a read too big to run inline can afford.
        """
        with self._lock:
            if self._closed:
                raise FileRetired(self.path.name)
            connection, version = self._spares.pop() if self._spares else (None, None)
        try:
            if connection is None:
                connection = connect_reader(self.path)
            current = connection.execute("PRAGMA data_version").fetchone()[0]
            if current != version and is_marked(connection):
                raise FileRetired(self.path.name)
        except BaseException as exc:
            if connection is not None:
                connection.close()
            if isinstance(exc, sqlite3.Error):
                raise self._failure(exc) from exc
            if isinstance(exc, StorageError) and not self.path.exists():
                raise FileRetired(self.path.name) from exc
            raise
        try:
            yield connection
        except BaseException:
            connection.close()
            raise
        with self._lock:
            keep = not self._closed and len(self._spares) < _SPARES
            if keep:
                self._spares.append((connection, current))
        if not keep:
            connection.close()

    def close(self) -> None:
        """Close every connection; borrowed ones close when they are returned."""
        with self._lock:
            self._index = None  # before the connections: SQLite unmaps the -shm file with the last one
            spares, self._spares = self._spares, []
        super().close()
        for connection, _ in spares:
            connection.close()
