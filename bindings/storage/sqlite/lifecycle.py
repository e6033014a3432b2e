"""Creating and deleting namespaces so that a crash at any moment loses no write and brings no key back.

Creating: one catalog transaction, under the catalog's write lock, makes the namespace's file and inserts
its row. The file has a name no earlier file of the id had (``files.file_name``, with the next generation).
Killed before the commit, the file is left without a row, and the clean-up removes it.

Deleting, in this order:

1. take the namespace file's write lock, as any write does (``StorageLockedError`` if another process
   holds it too long: then nothing has changed);
2. write ``<file>-deleting``, flushed to disk and locked while the delete runs: a delete in progress;
3. commit the tombstone in the namespace file. From here no write commits to the file, in any
   process: each finds the tombstone in its own transaction (``writer``) and looks the namespace up
   again, to find it gone or created anew in another file. A write that committed before it is
   deleted with the namespace, as it should be;
4. remove the catalog row, remembering the generation so the id's next file gets a new name;
5. unlink the file, its ``-wal`` and ``-shm``, then the ``-deleting`` file.

Killed between 2 and 3, the namespace is whole and has no tombstone: the clean-up removes the
``-deleting`` file and the namespace stays, with all its keys. Killed after 3, the clean-up does 4
and 5: the namespace is gone, with all its keys, and creating the id again starts empty.

The clean-up runs when a store starts, in one catalog transaction, so no create in another process
runs meanwhile. It finishes or undoes every delete whose process is gone (its ``-deleting`` file is no
longer locked) and removes files that no catalog row names. A clean store costs it one directory
listing and one catalog query, and no write.
"""

from __future__ import annotations

import functools
import os
import secrets
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ... import catalog as rules
from ...errors import NamespaceNotFoundError, StorageError
from .catalogfile import Catalog
from .files import (
    connect_reader,
    connect_writer,
    create_namespace_file,
    file_name,
    is_marked,
    mark_deleted,
    parse_file_name,
)
from .locking import begin_immediate, locked_error

__all__ = ["clean_up", "create", "delete", "leftovers", "unlink_files"]

INTENT = "-deleting"
CREATING = "-creating-"
_SUFFIXES = ("", "-wal", "-shm")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


# --- creating -------------------------------------------------------------------------------------


def create(catalog: Catalog, kv_dir: Path, namespace_id: str, title: str) -> None:
    """Create the namespace's file and catalog row together; raises the catalog rules' errors. Blocks.

    The file is built first, under a name of its own (``<id>.sqlite3-creating-<random>``), outside the
    catalog's lock, so creations in several threads or processes build their files at once. Under the
    lock only the cheap, atomic part runs: renaming the file into place and inserting its row, in one
    transaction. A clean-up removes a file left under its temporary name.
    """
    created_on = now_text()
    for _ in range(3):
        building = kv_dir / f"{namespace_id}.sqlite3{CREATING}{secrets.token_hex(8)}"
        try:
            create_namespace_file(building)
            catalog.write(functools.partial(_insert, kv_dir, namespace_id, title, created_on, building))
            return
        except (_Vanished, FileNotFoundError):
            continue  # a clean-up at another store's start took it for a leftover: build it again
        finally:
            unlink_files(building, sync=False)
    raise StorageError(f"namespace {namespace_id} could not be created: its new file kept vanishing")


class _Vanished(Exception):
    """The file being created was removed before it could be put in place."""


def _insert(
    kv_dir: Path, namespace_id: str, title: str, created_on: str, building: Path, connection: sqlite3.Connection
) -> None:
    (count,) = connection.execute("SELECT count(*) FROM namespaces").fetchone()
    rules.check_namespace_count(count)
    if connection.execute("SELECT 1 FROM namespaces WHERE id = ?", (namespace_id,)).fetchone():
        raise rules.duplicate_id(namespace_id)
    if connection.execute("SELECT 1 FROM namespaces WHERE title = ?", (title,)).fetchone():
        raise rules.duplicate_title()
    last = connection.execute("SELECT last FROM generations WHERE id = ?", (namespace_id,)).fetchone()
    generation = 1 if last is None else last[0] + 1
    path = kv_dir / file_name(namespace_id, generation)
    unlink_files(path, sync=False)  # what a create killed before its commit left there
    try:
        building.rename(path)
    except FileNotFoundError:
        raise _Vanished from None
    try:
        _sync_directory(kv_dir)  # the rename is on disk before the row that names the file
        connection.execute(
            "INSERT INTO namespaces (id, title, created_on, generation) VALUES (?, ?, ?, ?)",
            (namespace_id, title, created_on, generation),
        )
        _remember(connection, namespace_id, generation)
    except BaseException:
        unlink_files(path)  # still under the lock: nobody else can have it
        raise


_REMEMBER = (
    "INSERT INTO generations (id, last) VALUES (?, ?) "
    "ON CONFLICT (id) DO UPDATE SET last = max(last, excluded.last)"
)


def _remember(connection: sqlite3.Connection, namespace_id: str, generation: int) -> None:
    connection.execute(_REMEMBER, (namespace_id, generation))


def _remove_row(connection: sqlite3.Connection, namespace_id: str, generation: int) -> bool:
    sql = "DELETE FROM namespaces WHERE id = ? AND generation = ?"
    removed = connection.execute(sql, (namespace_id, generation)).rowcount
    _remember(connection, namespace_id, generation)
    return bool(removed)


# --- deleting -------------------------------------------------------------------------------------


def delete(catalog: Catalog, kv_dir: Path, namespace_id: str, generation: int, lock_timeout: float) -> None:
    """Delete the namespace whose file is ``generation`` in the order above; raises ``NamespaceNotFoundError``.

    Blocks. The catalog's write lock is taken before the tombstone commits (holding the file's), so a
    catalog locked too long fails the delete with nothing changed.
    """
    path = kv_dir / file_name(namespace_id, generation)
    intents: list[_Intent] = []
    connection = _lock_file(path, f"namespace {namespace_id}", lock_timeout)

    def remove(catalog_connection: sqlite3.Connection) -> bool:
        if connection is not None and not is_marked(connection):  # else another delete got this far
            intent = _Intent.create(path)
            try:
                mark_deleted(connection, now_text())
                connection.execute("COMMIT")
            except BaseException:
                intent.remove()
                raise
            intents.append(intent)
        return _remove_row(catalog_connection, namespace_id, generation)

    try:
        removed = catalog.write(remove)
    except BaseException:
        for intent in intents:
            intent.release()  # the tombstone is in: the clean-up at the next start finishes this delete
        raise
    finally:
        if connection is not None:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()
    unlink_files(path)
    for intent in intents:
        intent.remove()
    if not removed:
        raise NamespaceNotFoundError(namespace_id)  # another process deleted it meanwhile


def _lock_file(path: Path, subject: str, lock_timeout: float) -> sqlite3.Connection | None:
    """A connection holding the file's write lock (step 1); None if the file is gone."""
    try:
        connection = connect_writer(path, lock_timeout)
    except StorageError:
        if path.exists():
            raise
        return None
    try:
        if not begin_immediate(connection, time.monotonic() + lock_timeout):
            raise locked_error(subject, lock_timeout)
    except BaseException:
        connection.close()
        raise
    return connection


def unlink_files(path: Path, *, sync: bool = True) -> None:
    """Unlink a namespace file with its -wal and -shm (the database first), and make that durable."""
    for suffix in _SUFFIXES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if sync:
        _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not possible everywhere; the unlinks stand
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Intent:
    """The ``-deleting`` file of a delete in progress, locked (``flock``) by the process doing it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def create(cls, database: Path) -> _Intent:
        path = Path(f"{database}{INTENT}")
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            _flock(fd, wait=True)  # held only briefly by a clean-up looking at an old one
            if _is_at(fd, path):
                break
            os.close(fd)  # a clean-up removed that old one meanwhile: make our own
        os.fsync(fd)
        _sync_directory(path.parent)
        return cls(path, fd)

    @classmethod
    def claim(cls, path: Path) -> _Intent | None:
        """The ``-deleting`` file at ``path`` if the process that wrote it is gone, else None."""
        try:
            fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        if not _flock(fd, wait=False):
            os.close(fd)
            return None  # its delete is still running
        if not _is_at(fd, path):
            os.close(fd)
            return None
        return cls(path, fd)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _sync_directory(self.path.parent)
        os.close(self._fd)

    def release(self) -> None:
        os.close(self._fd)


def _flock(fd: int, *, wait: bool) -> bool:
    """Lock ``fd`` exclusively (the kernel lets go when the process dies); False if it is taken and not ``wait``."""
    try:
        import fcntl
    except ImportError:  # no flock here: a delete in progress cannot be told from one whose process died
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _is_at(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


# --- cleaning up at start -------------------------------------------------------------------------


def leftovers(catalog: Catalog, kv_dir: Path) -> bool:
    """Whether the clean-up has anything to do: a read, so a clean store costs no write at start."""
    intents, orphans = _leftovers(kv_dir, catalog.read("SELECT id, generation FROM namespaces"))
    return bool(intents or orphans)


def clean_up(catalog: Catalog, kv_dir: Path) -> None:
    """Finish or undo the deletes of processes that died, and remove files no namespace owns. Blocks."""
    catalog.write(lambda connection: _clean(connection, kv_dir))


def _leftovers(kv_dir: Path, rows: list[tuple[Any, ...]]) -> tuple[list[Path], list[Path]]:
    owned = {file_name(namespace_id, generation) for namespace_id, generation in rows}
    intents, orphans = [], []
    for name in sorted(os.listdir(kv_dir)):
        if name.endswith(INTENT):
            intents.append(kv_dir / name)
            continue
        if CREATING in name:  # being built (create retries if it vanishes) or left by a killed create
            orphans.append(kv_dir / name)
            continue
        base = name.removesuffix("-wal").removesuffix("-shm")
        if parse_file_name(base) is not None and base not in owned:
            orphans.append(kv_dir / name)
    return intents, orphans


def _clean(connection: sqlite3.Connection, kv_dir: Path) -> None:
    rows = connection.execute("SELECT id, generation FROM namespaces").fetchall()
    intents, orphans = _leftovers(kv_dir, rows)
    for path in intents:
        intent = _Intent.claim(path)
        if intent is None:
            continue
        database = Path(str(path).removesuffix(INTENT))
        parsed = parse_file_name(database.name)
        if parsed is not None and (not database.exists() or _has_tombstone(database)):
            _remove_row(connection, *parsed)  # killed after the tombstone: finish the delete
            unlink_files(database)
        intent.remove()  # killed before it: the namespace stays, whole
    for path in orphans:
        path.unlink(missing_ok=True)
    if orphans:
        _sync_directory(kv_dir)


def _has_tombstone(database: Path) -> bool:
    try:
        connection = connect_reader(database)
    except StorageError:
        return not database.exists()
    try:
        return is_marked(connection)
    finally:
        connection.close()
