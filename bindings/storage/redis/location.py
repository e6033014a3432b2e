"""The Redis engine's location strings: where the server is, and the engine's options, in one URL.

    redis://host:6379/0                          a server (or any node of a Cluster), database 0
    rediss://user:secret@host:6380/0             the same over TLS, with credentials
    unix:///run/redis/redis.sock?db=2            a local server on a unix socket
    redis://host:6379/0?prefix=staging&timeout=2

Options:

* ``prefix``: the start of every key the store writes (default ``workerhost``), so several stores
  share one server without seeing each other's namespaces (a CI shard, a test, a team);
* ``timeout``: seconds to wait for the server, to connect or for an answer (default 5);
* ``ttl_margin``: seconds past an entry's expiration before Redis may drop it by itself (default
  3600); expiry is judged by workerhost's clock, and Redis's own TTLs only collect garbage
  (README "Storage");
* ``db``: the database number, for a ``unix:`` location (a ``redis:`` URL gives it as its path);
* ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``, ``ssl_cert_reqs`` (``required``, ``optional``
  or ``none``): TLS settings, for ``rediss:`` only.

Nothing here imports the Redis client: a location is checked before anything connects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ...errors import StorageError
from ..engines import location_options, scheme_of

__all__ = ["DEFAULT_PREFIX", "SCHEMES", "RedisSettings", "parse_redis_location", "with_prefix"]

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PREFIX = "workerhost"
DEFAULT_PORT = 6379
DEFAULT_TIMEOUT = 5.0
DEFAULT_TTL_MARGIN = 3600
MAX_DB = 1_000_000  # servers default to 16 databases; the server itself refuses a number it lacks

# No braces (they delimit Redis Cluster hash tags) and no glob characters (a store's keys are found
# by pattern when a test's store is wiped).
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}")
_TLS_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
_OPTIONS = ("prefix", "timeout", "ttl_margin", "db", *_TLS_OPTIONS)
_CERT_REQS = ("required", "optional", "none")


@dataclass(frozen=True)
class RedisSettings:
    """What a location says: how to reach the server, and the engine's options."""

    scheme: str
    host: str | None = None
    port: int = DEFAULT_PORT
    path: str | None = None  # a unix socket
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    prefix: str = DEFAULT_PREFIX
    timeout: float = DEFAULT_TIMEOUT
    ttl_margin: int = DEFAULT_TTL_MARGIN
    tls: tuple[tuple[str, str], ...] = ()

    @property
    def address(self) -> str:
        """Where the server is, for messages: ``host:port`` or the socket's path."""
        if self.path is not None:
            return self.path
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"

    def public(self) -> str:
        """The location as a URL with the password hidden, for banners, logs and errors."""
        user = quote(self.username or "", safe="")
        credentials = f"{user}:***@" if self.password is not None else (f"{user}@" if user else "")
        options: dict[str, str] = {}
        if self.prefix != DEFAULT_PREFIX:
            options["prefix"] = self.prefix
        if self.path is not None:
            if self.db:
                options["db"] = str(self.db)
            where = f"unix://{credentials}{quote(self.path)}"
        else:
            where = f"{self.scheme}://{credentials}{self.address}/{self.db}"
        return where + (f"?{urlencode(options)}" if options else "")


def parse_redis_location(location: str) -> RedisSettings:
    """Read a ``redis:``, ``rediss:`` or ``unix:`` URL; raises ``StorageError`` naming what is wrong."""
    scheme = scheme_of(location)
    if scheme not in SCHEMES:
        raise StorageError(f"{_hide(location)!r} is not a Redis location (redis://, rediss:// or unix://)")
    try:
        parts = urlsplit(location)
        port = parts.port
    except ValueError as exc:
        raise StorageError(f"{_hide(location)!r}: {exc}") from None
    shown = _hide(location)
    if parts.fragment:
        raise StorageError(f"{shown!r}: a Redis location has no #fragment")
    options = location_options(shown, parts.query, _OPTIONS)
    if scheme != "rediss" and any(name in options for name in _TLS_OPTIONS):
        raise StorageError(f"{shown!r}: TLS options need a rediss:// location")
    settings = RedisSettings(
        scheme=scheme,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        prefix=_prefix(shown, options.get("prefix", DEFAULT_PREFIX)),
        timeout=_timeout(shown, options.get("timeout")),
        ttl_margin=_margin(shown, options.get("ttl_margin")),
        tls=tuple((name, _tls(shown, name, options[name])) for name in _TLS_OPTIONS if name in options),
    )
    if scheme == "unix":
        path = unquote(parts.path)
        if parts.hostname or not path.startswith("/"):
            raise StorageError(f"{shown!r}: a unix: location names a socket by its absolute path (unix:///path)")
        return replace(settings, path=path, db=_db(shown, options.get("db", "0")))
    if "db" in options:
        raise StorageError(f"{shown!r}: a redis: location gives the database as its path (redis://host:6379/0)")
    if not parts.hostname:
        raise StorageError(f"{shown!r}: names no host; expected {scheme}://host:6379/0")
    database = parts.path.strip("/")
    return replace(
        settings,
        host=unquote(parts.hostname),
        port=DEFAULT_PORT if port is None else port,
        db=_db(shown, database or "0"),
    )


def with_prefix(location: str, prefix: str) -> str:
    """``location`` with its ``prefix`` option replaced: a store of its own on the same server."""
    _prefix(location, prefix)
    parts = urlsplit(location)
    pairs = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "prefix"]
    return parts._replace(query=urlencode([*pairs, ("prefix", prefix)])).geturl()


def _hide(location: str) -> str:
    # A location may carry a password; no message repeats it.
    return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", location)


def _prefix(location: str, value: str) -> str:
    if not _PREFIX.fullmatch(value):
        raise StorageError(
            f"{location!r}: prefix must be 1 to 100 letters, digits and . _ : / - (starting with a letter or "
            f"digit), got {value!r}"
        )
    return value


def _number(location: str, name: str, value: str, expected: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number >= 0 or number == float("inf"):
        raise StorageError(f"{location!r}: {name} must be {expected}, got {value!r}")
    return number


def _timeout(location: str, value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    number = _number(location, "timeout", value, "a number of seconds above 0")
    if number == 0:
        raise StorageError(f"{location!r}: timeout must be a number of seconds above 0, got {value!r}")
    return number


def _margin(location: str, value: str | None) -> int:
    if value is None:
        return DEFAULT_TTL_MARGIN
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise StorageError(f"{location!r}: ttl_margin must be a whole number of seconds, got {value!r}")
    return int(text)


def _db(location: str, value: str) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_DB:
        raise StorageError(f"{location!r}: the database must be a number (0, 1, ...), got {value!r}")
    return int(text)


def _tls(location: str, name: str, value: str) -> str:
    if name == "ssl_cert_reqs" and value not in _CERT_REQS:
        raise StorageError(f"{location!r}: ssl_cert_reqs must be one of {', '.join(_CERT_REQS)}, got {value!r}")
    if not value:
        raise StorageError(f"{location!r}: {name} must not be empty")
    return value
