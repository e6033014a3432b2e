"""Route patterns (``/counter``, ``/counter/*``, ``example.com/api*``) and the compiled table that matches them.

Patterns follow Cloudflare's routes: ``*`` may end the path (a prefix match) and may start the host
(``*.example.com``); a pattern that starts with ``/`` matches any host. The most specific route wins:
one that names the host beats one that does not, an exact path beats a prefix, a longer prefix beats
a shorter one. Matching runs on every request, so the table is compiled once per loaded version into
a dict of exact paths plus a list of prefixes, and the Host header is only read when some route needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["RESERVED_PREFIXES", "RoutePattern", "Router", "parse_route"]

T = TypeVar("T")

# Paths the host keeps for itself; worker routes never shadow them.
RESERVED_PREFIXES = ("/__workerhost/", "/__scheduled")


@dataclass(frozen=True, slots=True)
class RoutePattern:
    """A parsed route: ``host`` is None for "any host"; ``prefix`` is True when the path ends with ``*``."""

    text: str
    host: str | None
    host_wildcard: bool  # "*.example.com" (or "*" alone, which is stored as host None)
    path: str
    prefix: bool

    @property
    def key(self) -> tuple[str | None, bool, str, bool]:
        """What makes two patterns the same route."""
        return (self.host, self.host_wildcard, self.path, self.prefix)

    def _rank(self) -> tuple[int, int, int]:
        host_rank = 0 if self.host is None else (1 if self.host_wildcard else 2)
        return (host_rank, 0 if self.prefix else 1, len(self.path))

    def matches_host(self, host: str) -> bool:
        if self.host is None:
            return True
        if ":" not in self.host:
            host = _without_port(host)
        if self.host_wildcard:
            return host.endswith(self.host) and len(host) > len(self.host)
        return host == self.host


def parse_route(text: object) -> RoutePattern:
    """Parse a route pattern; raises ValueError saying what is wrong with it."""
    if not isinstance(text, str) or not text:
        raise ValueError("a route must be a non-empty string")
    rest = text.split("://", 1)[1] if "://" in text else text
    if "?" in rest or "#" in rest:
        raise ValueError("a route may not contain a query string or fragment")
    if rest.startswith("/"):
        host, path = None, rest
    elif "/" in rest:
        host, slash, tail = rest.partition("/")
        path = slash + tail
    else:
        raise ValueError("a route needs a path starting with /")
    wildcard = False
    if host is not None:
        host = host.lower()
        if host == "*":
            host = None
        elif host.startswith("*"):
            host, wildcard = host[1:], True
        if host is not None and (not host or "*" in host):
            raise ValueError("* may only start the host, as in *.example.com")
    prefix = path.endswith("*")
    if prefix:
        path = path[:-1]
    if "*" in path:
        raise ValueError("* may only end the path, as in /api/*")
    return RoutePattern(text, host, wildcard, path, prefix)


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    pattern: RoutePattern
    target: T


class Router(Generic[T]):
    """A compiled route table mapping requests to targets (workers)."""

    __slots__ = ("_exact", "_prefixes", "_host_routes", "entries")

    def __init__(self, routes: Iterable[tuple[RoutePattern, T]]) -> None:
        entries = sorted((_Entry(p, t) for p, t in routes), key=lambda e: e.pattern._rank(), reverse=True)
        self.entries: Sequence[_Entry[T]] = tuple(entries)
        hostless = [e for e in entries if e.pattern.host is None]
        self._exact = {e.pattern.path: e.target for e in reversed(hostless) if not e.pattern.prefix}
        self._prefixes = tuple((e.pattern.path, e.target) for e in hostless if e.pattern.prefix)
        self._host_routes = tuple(e for e in entries if e.pattern.host is not None)

    def match(self, path: str, scope: dict[str, Any] | None = None) -> T | None:
        """The target for ``path`` (and the Host header in ``scope``, when any route names a host)."""
        if self._host_routes and scope is not None:
            found = self._match_host(_host_of(scope), path)
            if found is not None:
                return found
        target = self._exact.get(path)
        if target is not None:
            return target
        for prefix, target in self._prefixes:
            if path.startswith(prefix):
                return target
        return None

    def _match_host(self, host: str, path: str) -> T | None:
        for entry in self._host_routes:
            pattern = entry.pattern
            if pattern.matches_host(host) and (
                path.startswith(pattern.path) if pattern.prefix else path == pattern.path
            ):
                return entry.target
        return None


def _host_of(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            # A pattern with a port compares with it; one without compares with the bare name.
            return value.decode("latin-1").lower()
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else ""


def _without_port(host: str) -> str:
    name, colon, port = host.rpartition(":")
    if not colon or not port.isdigit():
        return host
    return name
