"""Expiry upkeep of one namespace file: delete the rows that expired and hand freed pages back to the disk.

The sweep visits every namespace in turn, most of them idle, so it works on a private connection of its
own that it closes at once, on a worker thread: it never opens a namespace in the store's pool (where
it would push out the ones in use), and never holds more than one file open. The cheap questions come
first, read-only, so an idle namespace costs no commit (and no fsync). A purge is a write like any
other: it waits for the file's write lock up to the lock timeout, and never commits to a file whose
namespace is being deleted (``files.is_marked``).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from ...errors import StorageError
from .files import connect_writer, is_marked, upgrade_namespace_file
from .locking import begin_immediate, locked_error, translate_error
from .writer import FileRetired

__all__ = ["DISCARD_EXPIRED", "purge_file"]

# Strictly before now: at the exact second a key is no longer gettable but still listable.
DISCARD_EXPIRED = "DELETE FROM entries WHERE key = ? AND expiration < ?"
ANY_EXPIRED = "SELECT 1 FROM entries WHERE expiration < ? LIMIT 1"
PURGE = "DELETE FROM entries WHERE id IN (SELECT id FROM entries WHERE expiration < ? LIMIT ?)"
FREE_PAGES_TO_VACUUM = 256  # return free pages to the disk once this many pile up


def purge_file(path: Path, now: float, limit: int, lock_timeout: float, *, repeat: bool = True) -> int:
    """Delete up to ``limit`` entries of ``path`` that expired before ``now`` (batch after batch if ``repeat``).

    Returns how many were deleted. Blocks: run it on a worker thread. Raises ``FileRetired`` if the file
    is gone or holds a deleted namespace, ``StorageLockedError`` if its lock stays taken.
    """
    subject = f"namespace {path.name.split('.')[0]}"
    try:
        connection = connect_writer(path, lock_timeout)
    except (StorageError, sqlite3.Error) as exc:
        if not path.exists():
            raise FileRetired(path.name) from None
        raise translate_error(exc, subject, lock_timeout) from exc
    try:
        connection.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")  # reads outside a transaction
        needed = _needs_purge(connection, now)
        connection.execute("PRAGMA busy_timeout = 0")
        if not needed:
            return 0
        total = 0
        while True:
            deleted = _purge_batch(connection, now, limit, lock_timeout, subject)
            total += deleted
            if deleted < limit or not repeat:
                return total
    except sqlite3.Error as exc:
        raise translate_error(exc, subject, lock_timeout) from exc
    finally:
        connection.close()


def _needs_purge(connection: sqlite3.Connection, now: float) -> bool:
    free_pages = connection.execute("PRAGMA freelist_count").fetchone()[0]
    return bool(connection.execute(ANY_EXPIRED, (now,)).fetchall()) or free_pages >= FREE_PAGES_TO_VACUUM


def _purge_batch(connection: sqlite3.Connection, now: float, limit: int, lock_timeout: float, subject: str) -> int:
    if not begin_immediate(connection, time.monotonic() + lock_timeout):
        raise locked_error(subject, lock_timeout)
    try:
        upgrade_namespace_file(connection)
        if is_marked(connection):
            raise FileRetired(subject)
        deleted = connection.execute(PURGE, (now, limit)).rowcount
        if connection.execute("PRAGMA freelist_count").fetchone()[0] >= FREE_PAGES_TO_VACUUM:
            connection.execute("PRAGMA incremental_vacuum").fetchall()
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return int(deleted)
