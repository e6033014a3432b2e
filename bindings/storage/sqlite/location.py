"""The SQLite engine's location strings: a persist directory and the engine's options in one string.

    /abs/dir                                          a plain path: the defaults
    sqlite:///abs/dir                                 the same as a URL (percent-encoded)
    sqlite:///abs/dir?max_pages=100&read_cache=off    with options

Options:

* ``max_pages``: cap every database file at this many 4 KiB pages, so a write that would grow one
  past it fails with ``StorageFullError`` as on a full disk (``workerhost dev --max-db-pages``);
* ``read_cache``: ``on`` (the default) or ``off``, the per-connection read cache (``sqlite_cache``).

``sqlite_location`` builds such a string and ``parse_sqlite_location`` reads one back, so whoever
holds the settings (the host's config) hands the engine one string and never its constructor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ...digits import whole_number
from ...errors import StorageError
from ..engines import scheme_of

__all__ = ["MAX_PAGES", "SCHEME", "SqliteSettings", "parse_sqlite_location", "sqlite_location"]

SCHEME = "sqlite"
_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no")
_OPTIONS = ("max_pages", "read_cache")
MAX_PAGES = 4294967294  # SQLite's own ceiling for max_page_count


@dataclass(frozen=True)
class SqliteSettings:
    """What a location says: the persist directory and the engine's options."""

    directory: Path
    max_pages: int | None = None
    read_cache: bool = True


def sqlite_location(directory: str | os.PathLike[str], *, max_pages: int | None = None, read_cache: bool = True) -> str:
    """The location of a SQLite store in ``directory`` (made absolute), naming the options not at their defaults."""
    # surrogateescape: a POSIX file name need not be UTF-8, and must come back byte for byte.
    path = quote(Path(directory).absolute().as_posix(), safe="/", errors="surrogateescape")
    options: dict[str, str] = {}
    if max_pages is not None:
        options["max_pages"] = str(_pages(str(max_pages)))
    if not read_cache:
        options["read_cache"] = "off"
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
    options = _options(location, parts.query)
    max_pages = options.get("max_pages")
    read_cache = options.get("read_cache")
    return SqliteSettings(
        Path(directory),
        max_pages=None if max_pages is None else _pages(max_pages, location),
        read_cache=True if read_cache is None else _switch(read_cache, location),
    )


def _options(location: str, query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise StorageError(f"{location!r}: options must be name=value pairs joined by &, got {query!r}") from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name not in _OPTIONS:
            raise StorageError(f"{location!r}: unknown option {name!r}; expected {' or '.join(_OPTIONS)}")
        if name in options:
            raise StorageError(f"{location!r}: option {name!r} is given twice")
        options[name] = value
    return options


def _pages(value: str, location: str | None = None) -> int:
    pages = whole_number(value, 1, MAX_PAGES)
    if pages is None:
        where = "" if location is None else f"{location!r}: "
        raise StorageError(f"{where}max_pages must be a whole number of pages from 1 to {MAX_PAGES}, got {value!r}")
    return pages


def _switch(value: str, location: str) -> bool:
    text = value.strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise StorageError(f"{location!r}: read_cache must be on or off, got {value!r}")
