"""Choosing and building a storage engine from one location string.

A location names its engine by its URL scheme; a plain path is the SQLite engine's persist
directory, the embedded default::

    .workerhost                                        SQLite, defaults
    sqlite:///abs/dir?max_pages=100&sync=off          SQLite with options (``sqlite/location.py``)
    redis://host:6379/0?prefix=staging                 Redis, a server or a Cluster (``redis/location.py``);
    rediss://...  unix:///run/redis.sock               also over TLS, or on a unix socket

Whoever holds the settings (the host's config, ``workerhost kv``, the pytest plugin) builds one
string and calls ``open_store``; no caller names an engine class or its options. Another engine
is one more entry in ``ENGINES``.

The encryption key is not part of the location, which is shown in messages and banners: it is
``open_store``'s own argument (``encryption``). ``open_store`` always returns the engine inside a
``KeyedStore``, which checks the key against the store at first use, so that a store opened without a
key refuses an encrypted one instead of reading sealed bytes as values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType
from urllib.parse import parse_qsl

from ..errors import StorageError
from .base import Store
from .encryption.keys import EncryptionKey

__all__ = ["ENGINES", "EngineFactory", "location_options", "open_engine", "open_store", "scheme_of"]

EngineFactory = Callable[[str], Store]

# Two characters at least, so a Windows drive ("C:\data") reads as a path, as pip and git read it.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")


def _open_sqlite(location: str) -> Store:
    from .sqlite.location import parse_sqlite_location
    from .sqlite.store import SqliteStore

    settings = parse_sqlite_location(location)
    return SqliteStore(
        settings.directory,
        read_cache=settings.read_cache,
        max_pages=settings.max_pages,
        lock_timeout=settings.lock_timeout,
        stream_timeout=settings.stream_timeout,
        sync=settings.sync,
    )


def _open_redis(location: str) -> Store:
    from .redis.location import parse_redis_location

    settings = parse_redis_location(location)  # a bad location is refused even without the client library
    try:
        from .redis.store import RedisStore
    except ImportError as exc:
        raise StorageError(
            f"{settings.public()}: the Redis engine needs redis-py ({exc}); "
            "install it with pip install 'workerhost[redis]'"
        ) from None
    return RedisStore(settings)


# Scheme → what builds its engine from the whole location. Each factory imports its engine when
# called, so an engine's modules (and its client library) load only for a location that names it.
ENGINES: Mapping[str, EngineFactory] = MappingProxyType(
    {"sqlite": _open_sqlite, "redis": _open_redis, "rediss": _open_redis, "unix": _open_redis}
)
_PLAIN_PATH_ENGINE = "sqlite"


def scheme_of(location: str) -> str | None:
    """The URL scheme of ``location`` in lower case, or None for a plain path."""
    match = _SCHEME.match(location)
    return None if match is None else match.group(1).lower()


def open_store(location: str | os.PathLike[str], *, key: EncryptionKey | None = None) -> Store:
    """The store at ``location``: a directory path (SQLite) or a URL whose scheme names the engine.

    With a ``key``, every value and its metadata are stored sealed with it (``encryption``); without
    one, an encrypted store is refused. Either is checked at first use (``encryption.verify_store``
    checks at once). Constructing a store does no I/O; files and connections open on first use.

    Raises:
        StorageError: the scheme names no engine, or the engine refuses the rest of the location.
    """
    from .encryption.store import KeyedStore

    return KeyedStore(open_engine(location), key)


def open_engine(location: str | os.PathLike[str]) -> Store:
    """The engine at ``location`` itself, which stores whatever it is given: no key check, no sealing.

    For tools that work on the stored form (``encryption.rekey``); everything else uses ``open_store``.
    """
    text = os.fspath(location)
    if not text:
        raise StorageError(f"the storage location is empty; supported: {_supported()}")
    scheme = scheme_of(text)
    factory = ENGINES.get(_PLAIN_PATH_ENGINE if scheme is None else scheme)
    if factory is None:
        raise StorageError(f"unknown storage scheme {scheme!r} in {text!r}; supported: {_supported()}")
    return factory(text)


def _supported() -> str:
    return "a directory path, or a URL starting " + ", ".join(f"{scheme}:" for scheme in sorted(ENGINES))


def location_options(location: str, query: str, known: Collection[str]) -> dict[str, str]:
    """A location's ``?name=value&...`` options by name; each engine checks the values itself.

    Raises:
        StorageError: the query is not name=value pairs, names an option not in ``known``, or one twice.
    """
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise StorageError(f"{location!r}: options must be name=value pairs joined by &, got {query!r}") from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name not in known:
            raise StorageError(f"{location!r}: unknown option {name!r}; expected one of {', '.join(known)}")
        if name in options:
            raise StorageError(f"{location!r}: option {name!r} is given twice")
        options[name] = value
    return options
