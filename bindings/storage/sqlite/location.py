"""The SQLite engine's location strings: a persist directory and the engine's options in one string.

    /abs/dir                                          a plain path: the defaults
    sqlite:///abs/dir                                 the same as a URL (percent-encoded)
    sqlite:///abs/dir?max_pages=100&read_cache=off    with options

Options:

* ``max_pages``: cap every database file at this many 4 KiB pages, so a write that would grow one
  past it fails with ``StorageFullError`` as on a full disk (``workerhost dev --max-db-pages``);
* ``read_cache``: ``on`` (the default) or ``off``, the per-connection read cache (``sqlite_cache``);
* ``lock_timeout``: seconds a write waits for a file's write lock held by another process
  (default ``files.LOCK_TIMEOUT_SECONDS``);
* ``stream_timeout``: seconds a value stream may go unread before it is abandoned (default
  ``streams.DEFAULT_STREAM_TIMEOUT``);
* ``sync``: ``on`` (the default) or ``off``. Off, commits are not synced to disk (``synchronous=OFF``):
  a crash of the process loses nothing, a crash of the machine may lose the last writes. For stores
  thrown away after a test (the pytest plugin's); the store then reports itself not durable.

``sqlite_location`` builds such a string and ``parse_sqlite_location`` reads one back, so whoever
holds the settings (the host's config) hands the engine one string and never its constructor.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

from ...digits import whole_number
from ...errors import StorageError
from ..engines import location_options, scheme_of
from .files import LOCK_TIMEOUT_SECONDS
from .streams import DEFAULT_STREAM_TIMEOUT

__all__ = ["MAX_PAGES", "SCHEME", "SqliteSettings", "parse_sqlite_location", "sqlite_location"]

SCHEME = "sqlite"
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")
_OPTIONS = ("max_pages", "read_cache", "lock_timeout", "stream_timeout", "sync")
MAX_PAGES = 4294967294  # SQLite's own ceiling for max_page_count


@dataclass(frozen=True)
class SqliteSettings:
    """What a location says: the persist directory and the engine's options."""

    directory: Path
    max_pages: int | None = None
    read_cache: bool = True
    lock_timeout: float = LOCK_TIMEOUT_SECONDS
    stream_timeout: float = DEFAULT_STREAM_TIMEOUT
    sync: bool = True


def sqlite_location(
    directory: str | os.PathLike[str],
    *,
    max_pages: int | None = None,
    read_cache: bool = True,
    lock_timeout: float | None = None,
    stream_timeout: float | None = None,
    sync: bool = True,
) -> str:
    """The location of a SQLite store in ``directory`` (made absolute), naming the options not at their defaults.

    A timeout of None is the default. Raises ``StorageError`` for an option out of range.
    """
    # surrogateescape: a POSIX file name need not be UTF-8, and must come back byte for byte.
    path = quote(Path(directory).absolute().as_posix(), safe="/", errors="surrogateescape")
    options: dict[str, str] = {}
    if max_pages is not None:
        options["max_pages"] = str(_pages(str(max_pages)))
    if not read_cache:
        options["read_cache"] = "off"
    if lock_timeout is not None and lock_timeout != LOCK_TIMEOUT_SECONDS:
        options["lock_timeout"] = repr(_seconds("lock_timeout", str(lock_timeout)))
    if stream_timeout is not None and stream_timeout != DEFAULT_STREAM_TIMEOUT:
        options["stream_timeout"] = repr(_seconds("stream_timeout", str(stream_timeout)))
    if not sync:
        options["sync"] = "off"
    query = f"?{urlencode(options)}" if options else ""
    return f"{SCHEME}://{path}{query}"


def parse_sqlite_location(location: str) -> SqliteSettings:
    """Read a plain path or a ``sqlite:`` URL; raises ``StorageError`` naming what is wrong."""
    scheme = scheme_of(location)
    if scheme is None:
        return SqliteSettings(Path(location))  # a plain path may hold "?" or "%": taken as it is
    if scheme != SCHEME:
        raise StorageError(f"{location!r} is not a {SCHEME}: location")
    parts = urlsplit(location)
    if parts.netloc:
        raise StorageError(
            f"{location!r}: a sqlite: location is a directory on this machine (sqlite:///abs/dir), "
            f"not a host ({parts.netloc!r})"
        )
    if parts.fragment:
        raise StorageError(f"{location!r}: a directory name's '#' must be written %23 in a sqlite: location")
    directory = unquote(parts.path, errors="surrogateescape")
    if not directory:
        raise StorageError(f"{location!r}: names no directory; expected sqlite:///abs/dir")
    options = location_options(location, parts.query, _OPTIONS)
    max_pages = options.get("max_pages")
    read_cache = options.get("read_cache")
    lock_timeout = options.get("lock_timeout")
    stream_timeout = options.get("stream_timeout")
    sync = options.get("sync")
    return SqliteSettings(
        Path(directory),
        max_pages=None if max_pages is None else _pages(max_pages, location),
        read_cache=True if read_cache is None else _switch("read_cache", read_cache, location),
        lock_timeout=LOCK_TIMEOUT_SECONDS if lock_timeout is None else _seconds("lock_timeout", lock_timeout, location),
        stream_timeout=(
            DEFAULT_STREAM_TIMEOUT if stream_timeout is None else _seconds("stream_timeout", stream_timeout, location)
        ),
        sync=True if sync is None else _switch("sync", sync, location),
    )


def _pages(value: str, location: str | None = None) -> int:
    pages = whole_number(value, 1, MAX_PAGES)
    if pages is None:
        where = "" if location is None else f"{location!r}: "
        raise StorageError(f"{where}max_pages must be a whole number of pages from 1 to {MAX_PAGES}, got {value!r}")
    return pages


def _seconds(name: str, value: str, location: str | None = None) -> float:
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        where = "" if location is None else f"{location!r}: "
        raise StorageError(f"{where}{name} must be a number of seconds above 0, got {value!r}")
    return seconds


def _switch(name: str, value: str, location: str) -> bool:
    text = value.strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise StorageError(f"{location!r}: {name} must be on or off, got {value!r}")
