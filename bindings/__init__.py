"""Workers-KV-compatible bindings and the storage engines under them.

This package never imports Starlette or ``runtime``: it knows nothing of HTTP.
"""

from __future__ import annotations

from .clock import Clock, ManualClock, SystemClock
from .errors import KVError, KVLimitError, KVTypeError, NamespaceNotFoundError, StorageError
from .kv import KVNamespace
from .storage import SqliteStore, Store, open_store, sqlite_location

__all__ = [
    "Clock",
    "KVError",
    "KVLimitError",
    "KVNamespace",
    "KVTypeError",
    "ManualClock",
    "NamespaceNotFoundError",
    "SqliteStore",
    "StorageError",
    "Store",
    "SystemClock",
    "open_store",
    "sqlite_location",
]
