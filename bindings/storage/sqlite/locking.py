"""Waiting for a file's write lock, and turning sqlite3 errors into the store's own.

SQLite's own wait for a lock (its busy timeout) sleeps longer and longer, up to 100 ms between tries.
Two processes that both write steadily then do not take turns: the one that just committed begins
again within microseconds, and the other one, asleep, rarely finds the lock free. So writers ask
SQLite not to wait and poll every millisecond themselves, which catches the short gaps between
another process's commits, up to a deadline (``LOCK_TIMEOUT_SECONDS``). A write that cannot get the
lock by then fails with ``StorageLockedError``, and nothing of it was written.
"""

from __future__ import annotations

import sqlite3
import time

from ...errors import StorageError, StorageFullError, StorageLockedError

__all__ = ["begin_immediate", "is_busy", "locked_error", "translate_error"]

POLL_SECONDS = 0.001


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" (SQLITE_BUSY and its extended codes)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def begin_immediate(connection: sqlite3.Connection, deadline: float) -> bool:
    """Begin a write transaction, polling for the file's write lock until ``deadline`` (``time.monotonic``).

    Returns False if the lock was not free by then; it is always tried at least once. The connection
    must not wait inside SQLite (``files.connect_writer``), or the polling would not take turns.
    """
    while True:
        try:
            connection.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def locked_error(subject: str, timeout: float) -> StorageLockedError:
    """The error for a write that waited ``timeout`` seconds for ``subject``'s lock ("namespace <id>")."""
    return StorageLockedError(
        f"{subject} is locked by another process: its write lock was not free within {timeout:g} s; "
        "nothing was written"
    )


def translate_error(exc: BaseException, subject: str = "the store", timeout: float = 0.0) -> BaseException:
    """Turn sqlite3 errors into the store's own, keeping anything else as it is."""
    if isinstance(exc, sqlite3.Error):
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            error: StorageError = StorageFullError(f"the store is full; the write was not applied ({exc})")
        elif is_busy(exc):
            error = locked_error(subject, timeout)
        else:
            error = StorageError(f"storage failure: {exc}")
        error.__cause__ = exc  # its traceback shows where, even from a writer thread
        return error
    return exc
