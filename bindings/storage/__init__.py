"""Storage engines for KV namespaces, chosen by ``open_store(location)``; SQLite is the embedded default.

    base.py       the interface every engine implements (``Store``, ``NamespaceStorage``)
    engines.py    ``open_store``: which engine a location string names, and building it
    sqlite/       the SQLite engine: one file per namespace under a persist directory
"""

from __future__ import annotations

from .base import Entry, EntryHead, EntryStream, KeyInfo, NamespaceInfo, NamespaceStorage, Store, Write
from .engines import open_store
from .sqlite.location import sqlite_location
from .sqlite.store import SqliteStore

__all__ = [
    "Entry",
    "EntryHead",
    "EntryStream",
    "KeyInfo",
    "NamespaceInfo",
    "NamespaceStorage",
    "SqliteStore",
    "Store",
    "Write",
    "open_store",
    "sqlite_location",
]
