"""The embedded default engine: a catalog file plus one SQLite file per namespace.

    location.py     its location strings: a directory plus options (``sqlite:///dir?max_pages=100``)
    store.py        ``SqliteStore``: the catalog and the namespaces' files
    files.py        opening files: schema, pragmas, and why SQLite
    namespace.py    one namespace's reads (inline, cached) and writes (through the writer)
    writer.py       the group-commit writer thread
    cache.py        the per-connection read cache, checked against the file before every read
    walindex.py     reading the WAL-index header from shared memory, for that check
"""

from __future__ import annotations

from .store import SqliteStore

__all__ = ["SqliteStore"]
