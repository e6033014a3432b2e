"""Where KV data lives, and how the store behaves: the location string ``bindings.storage.open_store``
takes, and the expiry sweep's pace.

The location is built here, from the persist directory and the SQLite engine's settings, so the
engine never reads flags or the environment itself:

* ``--max-db-pages N`` / ``WORKERHOST_MAX_DB_PAGES``: a page cap per file, to try a full disk
  (``workerhost dev`` only);
* ``WORKERHOST_READ_CACHE=0`` (or false, no, off): no read cache;
* ``WORKERHOST_LOCK_TIMEOUT``: seconds a write waits for a file another process holds locked
  (default 5);
* ``WORKERHOST_STREAM_TIMEOUT``: seconds a value stream may go unread before it is abandoned
  (default 60);
* ``WORKERHOST_SWEEP_INTERVAL``: seconds between expiry sweeps (default 60).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from bindings.storage import sqlite_location
from bindings.sweeper import DEFAULT_SWEEP_INTERVAL

from ..errors import ConfigError

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "READ_CACHE_ENV",
    "STREAM_TIMEOUT_ENV",
    "SWEEP_INTERVAL_ENV",
    "read_cache_enabled",
    "storage_location",
    "sweep_interval",
]

READ_CACHE_ENV = "WORKERHOST_READ_CACHE"
LOCK_TIMEOUT_ENV = "WORKERHOST_LOCK_TIMEOUT"
STREAM_TIMEOUT_ENV = "WORKERHOST_STREAM_TIMEOUT"
SWEEP_INTERVAL_ENV = "WORKERHOST_SWEEP_INTERVAL"
_OFF = ("0", "false", "no", "off")


def read_cache_enabled(environ: Mapping[str, str]) -> bool:
    """False when ``WORKERHOST_READ_CACHE`` says off; any other value (or none) leaves the cache on."""
    return environ.get(READ_CACHE_ENV, "1").strip().lower() not in _OFF


def _seconds(environ: Mapping[str, str], name: str) -> float | None:
    """The number of seconds environment variable ``name`` gives, or None if it is not set."""
    text = environ.get(name)
    if text is None or not text.strip():
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigError(f"{name} must be a number of seconds above 0, got {text!r}")
    return seconds


def storage_location(persist_to: Path, environ: Mapping[str, str], *, max_db_pages: int | None = None) -> str:
    """The store location for ``persist_to``, with the settings ``environ`` gives and a page cap."""
    return sqlite_location(
        persist_to,
        max_pages=max_db_pages,
        read_cache=read_cache_enabled(environ),
        lock_timeout=_seconds(environ, LOCK_TIMEOUT_ENV),
        stream_timeout=_seconds(environ, STREAM_TIMEOUT_ENV),
    )


def sweep_interval(environ: Mapping[str, str]) -> float:
    """Seconds between expiry sweeps: ``WORKERHOST_SWEEP_INTERVAL``, else the sweeper's default."""
    seconds = _seconds(environ, SWEEP_INTERVAL_ENV)
    return DEFAULT_SWEEP_INTERVAL if seconds is None else seconds
