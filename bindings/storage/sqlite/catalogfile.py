"""The catalog file: which namespaces exist, their titles, and which file holds each one's keys.

Reads run on the calling thread (an indexed lookup, as every REST request makes one). Writes are rare
(creating, renaming, deleting namespaces) and each is one transaction under the catalog's write lock,
run on a worker thread so neither its lock wait nor its fsync touches the event loop. Holding that lock
is also what keeps the catalog and the files agreeing: creating a namespace makes its file and inserts
its row in one such transaction, and the clean-up at start (``lifecycle``) runs in one.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .files import CATALOG_FILE, connect_writer, open_catalog_file
from .locking import begin_immediate, locked_error, translate_error
from .readers import ThreadConnections
from .writer import Setup

__all__ = ["Catalog"]

T = TypeVar("T")
_SUBJECT = "the namespace catalog"


class Catalog:
    """The catalog file of a store.

    Args:
        kv_dir: the directory of the store's files.
        lock_timeout: seconds a write may wait for the catalog's write lock.
        setup: the current connection setup (the page cap), applied before each write.
    """

    def __init__(self, kv_dir: Path, *, lock_timeout: float, setup: Callable[[], Setup | None]) -> None:
        self.path = kv_dir / CATALOG_FILE
        self._lock_timeout = lock_timeout
        self._setup = setup
        self._readers = ThreadConnections(self.path)
        self._write_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None

    def create(self) -> None:
        """Create the file, or bring an older one up to date (costs no write if it is current)."""
        open_catalog_file(self.path)

    def read(self, query: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query, on this thread's connection."""
        return self._readers.read(query, parameters)

    def generation(self, namespace_id: str) -> int | None:
        """Which file of the namespace holds its keys (``files.file_name``), or None if it does not exist."""
        rows = self._readers.read("SELECT generation FROM namespaces WHERE id = ?", (namespace_id,))
        return int(rows[0][0]) if rows else None

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one transaction under the catalog's write lock and commit it. Blocks: run it on a
        worker thread. Raises ``StorageLockedError`` if another process holds the lock too long."""
        with self._write_lock:
            connection = self._connection()
            try:
                if not begin_immediate(connection, time.monotonic() + self._lock_timeout):
                    raise locked_error(_SUBJECT, self._lock_timeout)
                try:
                    result = work(connection)
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                self._close_writer()  # a broken connection is reopened next time
                raise translate_error(exc, _SUBJECT, self._lock_timeout) from exc
            return result

    def _connection(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = connect_writer(self.path, self._lock_timeout)
        setup = self._setup()
        if setup is not None:
            setup(self._writer)
        return self._writer

    def _close_writer(self) -> None:
        connection, self._writer = self._writer, None
        if connection is not None:
            connection.close()

    def close(self) -> None:
        self._readers.close()
        with self._write_lock:
            self._close_writer()
