"""The Redis engine: one KV state shared by every host, CLI and CI shard given the same location.

    location.py     its location strings: redis://, rediss:// and unix:// URLs plus options
    keys.py         the key layout, hash-tagged so a namespace's keys share one Cluster slot
    scripts.py      the Lua scripts: every read and write is one of them
    connection.py   a client per event loop, a Cluster found by itself, errors in the store's words
    registry.py     the namespace catalog in Redis (titles unique across hosts)
    lifecycle.py    creating and deleting namespaces atomically: generations
    namespace.py    one namespace's reads and writes
    persistence.py  whether the server keeps acknowledged writes through a crash
    store.py        ``RedisStore``

redis-py (``pip install 'workerhost[redis]'``) is imported with ``store.py``, only when a location
names Redis: reading a location (``location.py``) needs nothing but the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import RedisStore

__all__ = ["RedisStore"]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from .store import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
