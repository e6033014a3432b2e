"""Opening the SQLite files of a store: the schema, and the pragmas each kind of connection needs.

Layout under the persist directory::

    kv/catalog.sqlite3            the namespaces: id, title
    kv/<namespace id>.sqlite3     one file per namespace (plus its -wal and -shm while in use)

Why SQLite and these settings:

* WAL, so readers never block the writer and another process (the CLI, a second host, the
  ``sqlite3`` shell) can read and write the same file safely;
* ``synchronous=FULL``, so a commit is on disk, not just in the OS cache, before it is acknowledged;
* keys as BLOBs of UTF-8, so the primary order is byte order, exactly Cloudflare's list order, and
  a NUL in a key is just a byte;
* the value column last in the row, so listing keys reads expiration and metadata without walking
  a large value's overflow pages;
* incremental auto-vacuum, so the sweeper can hand the pages of expired rows back to the disk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ...errors import StorageError

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "cap_pages",
    "connect_reader",
    "connect_writer",
    "create_catalog_file",
    "create_namespace_file",
]

SCHEMA_VERSION = 1
# SQLite's own ceiling for max_page_count: setting it means "no cap".
_NO_PAGE_CAP = 4294967294
# Long enough that two processes writing the same file queue behind each other rather than fail
# with "database is locked"; a commit holds the lock for milliseconds.
BUSY_TIMEOUT_SECONDS = 60.0

_NAMESPACE_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL UNIQUE,       -- UTF-8 bytes: byte order is Cloudflare's list order
    expiration INTEGER,             -- seconds since the epoch; NULL never expires
    metadata TEXT,                  -- compact JSON; NULL is no metadata
    size INTEGER NOT NULL,
    value BLOB NOT NULL             -- last, so listing never reads it
);
CREATE INDEX IF NOT EXISTS entries_expiration ON entries(expiration) WHERE expiration IS NOT NULL;
"""

_CATALOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL UNIQUE,
    created_on TEXT NOT NULL
);
"""


def _initialise(path: Path, schema: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return  # already set up: opening a store must not cost a write (and an fsync)
        # auto_vacuum only takes effect before the first table is created.
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.executescript(schema)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        connection.close()


def create_namespace_file(path: Path) -> None:
    """Create (or open and upgrade) a namespace file with its schema."""
    _initialise(path, _NAMESPACE_SCHEMA)


def create_catalog_file(path: Path) -> None:
    _initialise(path, _CATALOG_SCHEMA)


def _open(path: Path) -> sqlite3.Connection:
    # mode=rw: a namespace file that vanished must not be silently recreated empty.
    try:
        return sqlite3.connect(
            f"{path.as_uri()}?mode=rw",
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
        )
    except sqlite3.OperationalError as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc


def connect_writer(path: Path) -> sqlite3.Connection:
    """A connection for the group-commit writer: durable commits, bounded WAL."""
    connection = _open(path)
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA journal_size_limit = 67108864")
    return connection


def cap_pages(max_pages: int | None) -> Callable[[sqlite3.Connection], None]:
    """A writer-connection setup that caps the file at ``max_pages`` pages (None lifts the cap).

    A write that would grow the file past the cap fails with ``SQLITE_FULL``, exactly as on a full
    disk, which makes a full disk testable. SQLite never lowers the cap below the file's current size.
    """
    pages = _NO_PAGE_CAP if max_pages is None else max_pages

    def setup(connection: sqlite3.Connection) -> None:
        connection.execute(f"PRAGMA max_page_count = {int(pages)}").fetchall()

    return setup


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection; each statement sees the latest commit of any process."""
    connection = _open(path)
    connection.execute("PRAGMA query_only = ON")
    return connection
