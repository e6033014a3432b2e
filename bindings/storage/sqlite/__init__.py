"""The embedded default engine: a catalog file plus one SQLite file per namespace.

    location.py     its location strings: a directory plus options (``sqlite:///dir?max_pages=100``)
    store.py        ``SqliteStore``: the catalog and the namespaces' files
    files.py        the files: names, schema and upgrades, pragmas, and why SQLite
    catalogfile.py  the catalog file: reads, and writes under its lock
    lifecycle.py    creating and deleting namespaces safely, and cleaning up after a crash
    pool.py         which namespace files stay open: a bounded pool, least recently used closed first
    namespace.py    one namespace's reads (inline, cached) and writes (through its file's writer)
    writer.py       a file's group-commit writer thread; the tombstone check in every transaction
    locking.py      waiting for a file's write lock, bounded; sqlite3 errors as the store's own
    readers.py      read connections, checked against their file before every read
    cache.py        the per-connection read cache
    walindex.py     reading the WAL-index header from shared memory, for that check
    streams.py      value streams from one snapshot, which a stalled reader cannot hold for long
    upkeep.py       the expiry sweep's work on one file
"""

from __future__ import annotations

from .store import SqliteStore

__all__ = ["SqliteStore"]
