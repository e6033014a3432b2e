"""Route patterns as kv.yaml and wrangler write them: ``/counter``, ``/counter/*``, ``example.com/api*``.

Patterns follow Cloudflare's routes: ``*`` may end the path (a prefix match) and may start the host
(``*.example.com``); a pattern that starts with ``/`` matches any host. The most specific route wins:
one that names the host beats one that does not, an exact path beats a prefix, a longer prefix beats
a shorter one. ``runtime.host.router`` compiles a version's patterns into the table that matches requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from bindings.digits import whole_number

__all__ = ["RESERVED_PREFIXES", "RoutePattern", "parse_route", "without_port"]

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

    def rank(self) -> tuple[int, int, int]:
        host_rank = 0 if self.host is None else (1 if self.host_wildcard else 2)
        return (host_rank, 0 if self.prefix else 1, len(self.path))

    def matches_host(self, host: str) -> bool:
        if self.host is None:
            return True
        if ":" not in self.host:
            host = without_port(host)
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
        if host is not None and ":" in host and not host.endswith("]") and without_port(host) == host:
            raise ValueError("a port after the host must be a number from 1 to 65535, as in example.com:8080")
    prefix = path.endswith("*")
    if prefix:
        path = path[:-1]
    if "*" in path:
        raise ValueError("* may only end the path, as in /api/*")
    return RoutePattern(text, host, wildcard, path, prefix)


def without_port(host: str) -> str:
    """``host`` without a ``:port`` ending (ASCII digits, 1 to 65535); unchanged if it has none."""
    name, colon, port = host.rpartition(":")
    if not colon or whole_number(port, 1, 65535) is None or port != port.strip():
        return host
    return name
