"""Where KV data lives, and how the store behaves: the location string ``bindings.storage.open_store``
takes, and the expiry sweep's pace.

By default a SQLite store in the persist directory. ``storage`` (``--storage URL``,
``WORKERHOST_STORAGE``, kv.yaml's ``storage:``) names another location, such as a Redis server
many hosts share (README "Storage"). The SQLite engine's own settings are folded into its location
here, so the engine never reads flags or the environment itself:

* ``--max-db-pages N`` / ``WORKERHOST_MAX_DB_PAGES``: a page cap per file, to try a full disk
  (``workerhost dev`` only);
* ``WORKERHOST_READ_CACHE=0`` (or false, no, off): no read cache;
* ``WORKERHOST_LOCK_TIMEOUT``: seconds a write waits for a file another process holds locked
  (default 5);
* ``WORKERHOST_STREAM_TIMEOUT``: seconds a value stream may go unread before it is abandoned
  (default 60).

Any of these given with a store that is not SQLite is a config error, not silently ignored.
``WORKERHOST_SWEEP_INTERVAL`` (seconds between expiry sweeps, default 60) applies to every engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bindings.errors import StorageError
from bindings.storage import open_store, sqlite_location
from bindings.storage.engines import scheme_of
from bindings.storage.redis.location import SCHEMES as REDIS_SCHEMES, parse_redis_location
from bindings.storage.sqlite.location import parse_sqlite_location
from bindings.sweeper import DEFAULT_SWEEP_INTERVAL

from ..errors import ConfigError

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "READ_CACHE_ENV",
    "STREAM_TIMEOUT_ENV",
    "SWEEP_INTERVAL_ENV",
    "StorageChoice",
    "describe_storage",
    "is_sqlite",
    "read_cache_enabled",
    "resolve_storage",
    "storage_location",
    "sweep_interval",
]

READ_CACHE_ENV = "WORKERHOST_READ_CACHE"
LOCK_TIMEOUT_ENV = "WORKERHOST_LOCK_TIMEOUT"
STREAM_TIMEOUT_ENV = "WORKERHOST_STREAM_TIMEOUT"
SWEEP_INTERVAL_ENV = "WORKERHOST_SWEEP_INTERVAL"
_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class StorageChoice:
    """A storage location as given, and who gave it (for messages): ``--storage``, an env var, kv.yaml."""

    location: str
    source: str  # e.g. "--storage", "WORKERHOST_STORAGE", "kv.yaml:3: storage"
    base: Path  # what a relative directory is relative to


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


def storage_location(
    persist_to: Path, environ: Mapping[str, str], *, max_db_pages: int | None = None, sync: bool = True
) -> str:
    """The store location for ``persist_to``, with the settings ``environ`` gives, a page cap, and syncing."""
    return sqlite_location(
        persist_to,
        max_pages=max_db_pages,
        read_cache=read_cache_enabled(environ),
        lock_timeout=_seconds(environ, LOCK_TIMEOUT_ENV),
        stream_timeout=_seconds(environ, STREAM_TIMEOUT_ENV),
        sync=sync,
    )


def sweep_interval(environ: Mapping[str, str]) -> float:
    """Seconds between expiry sweeps: ``WORKERHOST_SWEEP_INTERVAL``, else the sweeper's default."""
    seconds = _seconds(environ, SWEEP_INTERVAL_ENV)
    return DEFAULT_SWEEP_INTERVAL if seconds is None else seconds

def is_sqlite(location: str) -> bool:
    """True if ``location`` names the SQLite engine (a directory, or a ``sqlite:`` URL)."""
    return scheme_of(location) in (None, "sqlite")


def resolve_storage(
    choice: StorageChoice | None,
    persist_to: Path,
    environ: Mapping[str, str],
    *,
    persist_to_given: bool = False,
    max_db_pages: int | None = None,
) -> tuple[str, Path]:
    """The store location and the persist directory, from a ``storage`` choice (or None) and the SQLite settings.

    A SQLite choice moves the persist directory to its own; naming a different one with persist_to
    as well is an error, as is a SQLite-only setting with another engine.

    Raises:
        ConfigError: naming who gave the location and what is wrong with it.
    """
    if choice is None:
        return storage_location(persist_to, environ, max_db_pages=max_db_pages), persist_to
    if not choice.location.strip():
        raise ConfigError(f"{choice.source} is empty; expected a directory, or a URL such as redis://host:6379/0")
    if is_sqlite(choice.location):
        return _sqlite(choice, persist_to, environ, persist_to_given, max_db_pages)
    shown = describe_storage(choice.location, persist_to)
    if max_db_pages is not None:
        raise ConfigError(
            f"--max-db-pages (WORKERHOST_MAX_DB_PAGES) caps SQLite files, but the KV storage is {shown} "
            f"({choice.source}); drop one of them"
        )
    for name, what in (
        (READ_CACHE_ENV, "read cache"),
        (LOCK_TIMEOUT_ENV, "lock timeout"),
        (STREAM_TIMEOUT_ENV, "stream timeout"),
    ):
        if environ.get(name, "").strip():
            raise ConfigError(
                f"{name} sets the SQLite engine's {what}, but the KV storage is {shown} ({choice.source}); unset it"
            )
    try:
        open_store(choice.location)  # checks the whole location; connects to nothing
    except StorageError as exc:
        raise ConfigError(f"{choice.source}: {exc}") from None
    return choice.location, persist_to


def _sqlite(
    choice: StorageChoice,
    persist_to: Path,
    environ: Mapping[str, str],
    persist_to_given: bool,
    max_db_pages: int | None,
) -> tuple[str, Path]:
    try:
        settings = parse_sqlite_location(choice.location)
    except StorageError as exc:
        raise ConfigError(f"{choice.source}: {exc}") from None
    directory = (choice.base / settings.directory).absolute()
    if persist_to_given and directory != persist_to:
        raise ConfigError(
            f"{choice.source} keeps KV data in {directory}, but persist_to is {persist_to}; give one of them"
        )
    if max_db_pages is not None and settings.max_pages is not None and max_db_pages != settings.max_pages:
        raise ConfigError(f"{choice.source} caps files at {settings.max_pages} pages, --max-db-pages at {max_db_pages}")
    pages = settings.max_pages if max_db_pages is None else max_db_pages
    read_cache = settings.read_cache and read_cache_enabled(environ)
    lock_timeout = _seconds(environ, LOCK_TIMEOUT_ENV) or settings.lock_timeout
    stream_timeout = _seconds(environ, STREAM_TIMEOUT_ENV) or settings.stream_timeout
    location = sqlite_location(
        directory,
        max_pages=pages,
        read_cache=read_cache,
        lock_timeout=lock_timeout,
        stream_timeout=stream_timeout,
        sync=settings.sync,
    )
    return location, directory


def describe_storage(location: str, persist_to: Path) -> str:
    """Where the KV data is, for the banner, the status route and messages (a password never shows)."""
    scheme = scheme_of(location)
    if scheme in REDIS_SCHEMES:
        try:
            return parse_redis_location(location).public()
        except StorageError:
            return f"{scheme}://..."
    if scheme in (None, "sqlite"):
        return str(persist_to)
    return location
