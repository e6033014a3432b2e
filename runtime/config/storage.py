"""Where KV data lives: the store location string ``bindings.storage.open_store`` takes.

The location is built here, from the persist directory and the SQLite engine's two settings, so
the engine never reads flags or the environment itself:

* ``--max-db-pages N`` / ``WORKERHOST_MAX_DB_PAGES``: a page cap per file, to try a full disk
  (``workerhost dev`` only);
* ``WORKERHOST_READ_CACHE=0`` (or false, no, off): no read cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bindings.storage import sqlite_location

__all__ = ["READ_CACHE_ENV", "read_cache_enabled", "storage_location"]

READ_CACHE_ENV = "WORKERHOST_READ_CACHE"
_OFF = ("0", "false", "no", "off")


def read_cache_enabled(environ: Mapping[str, str]) -> bool:
    """False when ``WORKERHOST_READ_CACHE`` says off; any other value (or none) leaves the cache on."""
    return environ.get(READ_CACHE_ENV, "1").strip().lower() not in _OFF


def storage_location(persist_to: Path, environ: Mapping[str, str], *, max_db_pages: int | None = None) -> str:
    """The store location for ``persist_to``, with the read-cache setting from ``environ`` and a page cap."""
    return sqlite_location(persist_to, max_pages=max_db_pages, read_cache=read_cache_enabled(environ))
