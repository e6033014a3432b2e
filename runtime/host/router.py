"""The compiled route table of a loaded version: which worker serves a request.

Matching runs on every request, so the table is compiled once per loaded version into a dict of
exact paths plus a list of prefixes, and the Host header is only read when some route needs it.
The patterns themselves, and which one is more specific, are ``runtime.config.routes``'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.types import Scope

from ..config.routes import RoutePattern

__all__ = ["Router"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    pattern: RoutePattern
    target: T


class Router(Generic[T]):
    """A compiled route table mapping requests to targets (workers)."""

    __slots__ = ("_exact", "_prefixes", "_host_routes", "entries")

    def __init__(self, routes: Iterable[tuple[RoutePattern, T]]) -> None:
        entries = sorted((_Entry(p, t) for p, t in routes), key=lambda e: e.pattern.rank(), reverse=True)
        self.entries: Sequence[_Entry[T]] = tuple(entries)
        hostless = [e for e in entries if e.pattern.host is None]
        self._exact = {e.pattern.path: e.target for e in reversed(hostless) if not e.pattern.prefix}
        self._prefixes = tuple((e.pattern.path, e.target) for e in hostless if e.pattern.prefix)
        self._host_routes = tuple(e for e in entries if e.pattern.host is not None)

    def match(self, path: str, scope: Scope | None = None) -> T | None:
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


def _host_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            # A pattern with a port compares with it; one without compares with the bare name.
            return str(value.decode("latin-1")).lower()
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else ""
