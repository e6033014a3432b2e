"""Storage engines for KV namespaces. ``SqliteStore`` is the embedded default."""

from __future__ import annotations

from .base import Entry, EntryStream, KeyInfo, NamespaceInfo, NamespaceStorage, Store, Write
from .sqlite.store import SqliteStore

__all__ = ["Entry", "EntryStream", "KeyInfo", "NamespaceInfo", "NamespaceStorage", "SqliteStore", "Store", "Write"]
