"""The SQLite files of a store: their names, schemas and upgrades, and the pragmas each kind of connection needs.

Layout under the persist directory::

    kv/catalog.sqlite3              the namespaces: id, title, and which generation of file holds the keys;
                                    and the store's settings (a few small named records, ``Store.read_setting``)
    kv/<namespace id>.sqlite3       one file per namespace (plus its -wal and -shm while in use)
    kv/<namespace id>.<n>.sqlite3   the n-th file of an id that was deleted and created again
    kv/<file>-deleting              a delete in progress (``lifecycle``)

A namespace created again after a delete never reuses a file name. A process may still hold the old,
unlinked file open, and SQLite removes a file's ``-wal`` and ``-shm`` *by name* when its last connection
closes: with the same name it would remove the new file's log, and the writes in it.

Why SQLite and these settings:

* WAL, so readers never block the writer and another process (the CLI, a second host, the
  ``sqlite3`` shell) can read and write the same file safely;
* ``synchronous=FULL``, so a commit is on disk, not just in the OS cache, before it is acknowledged;
* keys as BLOBs of UTF-8, so the primary order is byte order, exactly Cloudflare's list order, and
  a NUL in a key is just a byte;
* the value column last in the row, so listing keys reads expiration and metadata without walking
  a large value's overflow pages;
* incremental auto-vacuum, so the sweeper can hand the pages of expired rows back to the disk;
* a ``tombstone`` row once the namespace is being deleted: every write transaction looks for it, so
  no write can commit to a deleted namespace's file, from any process (``lifecycle``).
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ...errors import StorageError

__all__ = [
    "CATALOG_FILE",
    "LOCK_TIMEOUT_SECONDS",
    "cap_pages",
    "connect_reader",
    "connect_writer",
    "create_namespace_file",
    "join_setups",
    "no_sync",
    "file_name",
    "is_marked",
    "mark_deleted",
    "open_catalog_file",
    "parse_file_name",
    "upgrade_namespace_file",
]

CATALOG_FILE = "catalog.sqlite3"
NAMESPACE_SCHEMA_VERSION = 2  # 2: the tombstone table
CATALOG_SCHEMA_VERSION = 3  # 2: generations; 3: settings
# How long a write waits for a file's write lock before it fails with StorageLockedError. A commit
# holds the lock for milliseconds (even a 100 MB bulk write takes well under a second to log and
# fsync), so writers of several processes queue far within it; a lock held longer is a transaction
# left open elsewhere (the sqlite3 shell), and a prompt, clear error beats a request that hangs. Short
# enough for every HTTP client's timeout, long enough for a loaded machine's slowest fsync.
LOCK_TIMEOUT_SECONDS = 5.0
# SQLite's own ceiling for max_page_count: setting it means "no cap".
_NO_PAGE_CAP = 4294967294
_FILE_NAME = re.compile(r"([0-9a-f]{32})(?:\.([1-9][0-9]*))?\.sqlite3")

_TOMBSTONE = """CREATE TABLE IF NOT EXISTS tombstone (
    deleted_on TEXT NOT NULL            -- a row here: the namespace is being deleted, no write may commit
)"""
_NAMESPACE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS entries (
        id INTEGER PRIMARY KEY,
        key BLOB NOT NULL UNIQUE,       -- UTF-8 bytes: byte order is Cloudflare's list order
        expiration INTEGER,             -- seconds since the epoch; NULL never expires
        metadata TEXT,                  -- compact JSON; NULL is no metadata
        size INTEGER NOT NULL,
        value BLOB NOT NULL             -- last, so listing never reads it
    )""",
    "CREATE INDEX IF NOT EXISTS entries_expiration ON entries(expiration) WHERE expiration IS NOT NULL",
    _TOMBSTONE,
)

_GENERATIONS = """CREATE TABLE IF NOT EXISTS generations (
    id TEXT PRIMARY KEY,
    last INTEGER NOT NULL               -- the newest file an id has had, remembered after it is deleted
)"""
_SETTINGS = """CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL                 -- whatever the setting's owner writes (the encryption key check)
)"""
_CATALOG_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS namespaces (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL UNIQUE,
        created_on TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 1   -- the file holding its keys (file_name)
    )""",
    _GENERATIONS,
    _SETTINGS,
)

_IS_MARKED = "SELECT EXISTS (SELECT 1 FROM tombstone)"


def file_name(namespace_id: str, generation: int) -> str:
    """The file name of a namespace's ``generation``: ``<id>.sqlite3`` for the first, ``<id>.<n>.sqlite3`` after."""
    return f"{namespace_id}.sqlite3" if generation == 1 else f"{namespace_id}.{generation}.sqlite3"


def parse_file_name(name: str) -> tuple[str, int] | None:
    """The namespace id and generation a database file name stands for, or None if it is no namespace file."""
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        return None
    return match.group(1), int(match.group(2) or 1)


def _connect(target: str | Path, *, uri: bool = False, timeout: float = LOCK_TIMEOUT_SECONDS) -> sqlite3.Connection:
    return sqlite3.connect(target, uri=uri, isolation_level=None, timeout=timeout, check_same_thread=False)


def create_namespace_file(path: Path) -> None:
    """Create a namespace file with its schema, durable on return. Whatever was at ``path`` is replaced.

    Built without syncing (SQLite would sync a dozen times: the header, the log, the checkpoint when
    the connection closes), then made durable with one ``fsync`` of the file and one of its directory:
    before its catalog row commits, nobody may open it anyway. Opening and closing a descriptor of the
    file is safe only because no connection of this process has it open (``walindex``).
    """
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    connection = _connect(path)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA journal_mode = OFF")  # no rollback journal for a file nobody sees yet
        # auto_vacuum only takes effect before the first table is created.
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("BEGIN IMMEDIATE")
        for statement in _NAMESPACE_SCHEMA:
            connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {NAMESPACE_SCHEMA_VERSION}")
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")  # kept in the file's header
    finally:
        connection.close()  # the last connection: SQLite copies the log into the file and removes it
    for target in (path, path.parent):
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def upgrade_namespace_file(connection: sqlite3.Connection) -> None:
    """Bring a namespace file to the current schema, inside the caller's write transaction.

    Costs one pragma read when the file is current; files made before the tombstone gain its table.
    """
    if connection.execute("PRAGMA user_version").fetchone()[0] < NAMESPACE_SCHEMA_VERSION:
        connection.execute(_TOMBSTONE)
        connection.execute(f"PRAGMA user_version = {NAMESPACE_SCHEMA_VERSION}")


def open_catalog_file(path: Path) -> None:
    """Create the catalog file, or bring an older one to the current schema; costs no write if it is current."""
    connection = _connect(path)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version >= CATALOG_SCHEMA_VERSION:
            return  # already set up (or by a newer workerhost): opening a store must not cost a write (and an fsync)
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("BEGIN IMMEDIATE")
        version = connection.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
        if version >= CATALOG_SCHEMA_VERSION:
            connection.execute("ROLLBACK")
            return
        if version == 1:  # the namespaces table, without generations
            connection.execute("ALTER TABLE namespaces ADD COLUMN generation INTEGER NOT NULL DEFAULT 1")
            connection.execute(_GENERATIONS)
        if version in (1, 2):  # without settings
            connection.execute(_SETTINGS)
        elif version == 0:
            for statement in _CATALOG_SCHEMA:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {CATALOG_SCHEMA_VERSION}")
        connection.execute("COMMIT")
    finally:
        connection.close()


def is_marked(connection: sqlite3.Connection) -> bool:
    """True if the namespace file has its tombstone: it is being deleted. A file older than the tombstone has none."""
    try:
        return bool(connection.execute(_IS_MARKED).fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise


def mark_deleted(connection: sqlite3.Connection, when: str) -> None:
    """Write the tombstone, inside the caller's write transaction (which its commit makes final)."""
    upgrade_namespace_file(connection)
    connection.execute("INSERT INTO tombstone VALUES (?)", (when,))


def _open(path: Path, timeout: float) -> sqlite3.Connection:
    # mode=rw: a namespace file that vanished must not be silently recreated empty.
    try:
        return _connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=timeout)
    except sqlite3.OperationalError as exc:
        raise StorageError(f"cannot open {path}: {exc}") from exc


def connect_writer(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """A connection for a file's writer: durable commits, bounded WAL.

    It waits for the file's write lock in ``locking.begin_immediate``, polling often enough that
    writers of several processes take turns, so SQLite's own wait is off once the connection is set
    up: every later statement of a writer runs inside a transaction that already holds the lock. The
    setup itself may meet a brief lock of SQLite's (another process rebuilding the WAL index) and
    waits up to ``timeout`` for it; a caller that reads outside a transaction turns the wait back on
    (``upkeep``).
    """
    connection = _open(path, timeout=timeout)
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA journal_size_limit = 67108864")
    connection.execute("PRAGMA busy_timeout = 0")
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


def no_sync(connection: sqlite3.Connection) -> None:
    """A writer-connection setup that commits without syncing: for stores thrown away after a test.

    The WAL is still written before a commit returns, so a crash of the process loses nothing; a crash
    of the machine may lose the last commits (SQLite's ``synchronous=OFF``).
    """
    connection.execute("PRAGMA synchronous = OFF")


def join_setups(*setups: Callable[[sqlite3.Connection], None] | None) -> Callable[[sqlite3.Connection], None] | None:
    """One setup that applies each of ``setups`` in turn (None for none)."""
    chosen = [setup for setup in setups if setup is not None]
    if not chosen:
        return None
    if len(chosen) == 1:
        return chosen[0]

    def setup(connection: sqlite3.Connection) -> None:
        for each in chosen:
            each(connection)

    return setup


def connect_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection; each statement sees the latest commit of any process."""
    connection = _open(path, timeout=LOCK_TIMEOUT_SECONDS)
    connection.execute("PRAGMA query_only = ON")
    return connection
