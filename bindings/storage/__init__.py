"""Storage engines for KV namespaces, chosen by ``open_store(location)``; SQLite is the embedded default.

    base.py       the interface every engine implements (``Store``, ``NamespaceStorage``)
    engines.py    ``open_store``: which engine a location string names, and building it
    durability.py whether a store keeps acknowledged writes through a crash (Redis depends on its settings)
    sqlite/       the SQLite engine: one file per namespace under a persist directory
    redis/        the Redis engine: one KV state shared by many hosts (``pip install 'workerhost[redis]'``)
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
