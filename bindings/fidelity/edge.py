"""``consistency: eventual``: what one simulated edge location has cached, key by key.

Production caches each read at the location it is made from, misses included: "Negative lookups
indicating that the key does not exist are also cached" and changes made elsewhere take "up to 60
seconds or more" to show (https://developers.cloudflare.com/kv/concepts/how-kv-works/). A read's
``cacheTtl`` (default 60 s) is how old a cached result it accepts; a later read with a lower one
checks for newer data (https://developers.cloudflare.com/kv/api/read-key-value-pairs/).

So a view is the entry (or its absence) as fetched, with the time it was fetched on the injected
clock. A read serves a view younger than its ``cacheTtl`` (a miss: younger than the negative-cache
time too) and otherwise fetches from the store and remembers what it got. Expiration still wins
over any view: the service judges a cached entry's expiration as it judges a fresh one's.

Memory is bounded: the least recently fetched views go first, beyond a number of views or of bytes
(a view dropped early only makes the location see the store sooner).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from ..clock import Clock
from ..storage.base import Entry, EntryHead, NamespaceStorage

__all__ = ["MAX_VIEW_BYTES", "MAX_VIEWS", "EdgeReader", "EdgeViews"]

MAX_VIEWS = 10_000
MAX_VIEW_BYTES = 32 * 1024 * 1024
_VIEW_OVERHEAD = 100  # bytes a view costs beyond its key and value, roughly


class _View:
    __slots__ = ("entry", "fetched_at", "cost")

    def __init__(self, entry: Entry | None, fetched_at: float, cost: int) -> None:
        self.entry = entry
        self.fetched_at = fetched_at
        self.cost = cost


def _head(entry: Entry) -> EntryHead:
    return EntryHead(entry.size, entry.expiration, entry.metadata)


class EdgeViews:
    """The cached views of one namespace at the location the handlers read from.

    Args:
        clock: the time views age by.
        negative_ttl: the most seconds a missing key is served from the cache.
    """

    __slots__ = ("_clock", "_negative_ttl", "_views", "_bytes", "_max_views", "_max_bytes")

    def __init__(
        self, clock: Clock, negative_ttl: float, *, max_views: int = MAX_VIEWS, max_bytes: int = MAX_VIEW_BYTES
    ) -> None:
        self._clock = clock
        self._negative_ttl = negative_ttl
        self._views: OrderedDict[bytes, _View] = OrderedDict()  # least recently fetched first
        self._bytes = 0
        self._max_views = max_views
        self._max_bytes = max_bytes

    def cached(self, key: bytes, ttl: float) -> _View | None:
        """The view of ``key`` if one is young enough for a read with this ``cacheTtl``."""
        view = self._views.get(key)
        if view is None:
            return None
        age = self._clock.now() - view.fetched_at
        limit = ttl if view.entry is not None else min(ttl, self._negative_ttl)
        return view if age < limit else None

    def remember(self, key: bytes, entry: Entry | None) -> None:
        """What the location now holds for ``key`` (None: missing), as of now."""
        old = self._views.pop(key, None)
        if old is not None:
            self._bytes -= old.cost
        cost = len(key) + _VIEW_OVERHEAD + (0 if entry is None else entry.size)
        if cost > self._max_bytes:
            return  # bigger than the whole cache: the location keeps no copy and reads the store
        self._views[key] = _View(entry, self._clock.now(), cost)
        self._bytes += cost
        while len(self._views) > self._max_views or self._bytes > self._max_bytes:
            _, dropped = self._views.popitem(last=False)
            self._bytes -= dropped.cost

    def keep_or_remember(self, key: bytes, entry: Entry | None, ttl: float) -> None:
        """Keep a young view of ``key``, else remember ``entry`` as of now (a change made elsewhere arrives later)."""
        if self.cached(key, ttl) is None:
            self.remember(key, entry)

    async def get(self, storage: NamespaceStorage, key: bytes, ttl: float) -> Entry | None:
        """``key``'s entry as the location sees it: its view if young enough, else fetched and remembered."""
        view = self.cached(key, ttl)
        if view is not None:
            return view.entry
        entry = await storage.get(key)
        self.remember(key, entry)
        return entry

    def reader(self, storage: NamespaceStorage, ttl: float) -> EdgeReader:
        """What a bulk get reads through at this location."""
        return EdgeReader(self, storage, ttl)

    def clear(self) -> None:
        """Forget every view: the location sees the store as it is."""
        self._views.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._views)

    @property
    def bytes(self) -> int:
        """What the views hold, in (roughly counted) bytes."""
        return self._bytes


class EdgeReader:
    """Heads and entries of many keys as the location sees them, for a bulk get with one ``cacheTtl``."""

    __slots__ = ("_views", "_storage", "_ttl")

    def __init__(self, views: EdgeViews, storage: NamespaceStorage, ttl: float) -> None:
        self._views = views
        self._storage = storage
        self._ttl = ttl

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        views, ttl = self._views, self._ttl
        found: list[EntryHead | None] = [None] * len(keys)
        fetch: list[int] = []
        for index, key in enumerate(keys):
            view = views.cached(key, ttl)
            if view is None:
                fetch.append(index)
            elif view.entry is not None:
                found[index] = _head(view.entry)
        if fetch:
            heads = await self._storage.heads([keys[index] for index in fetch])
            for index, head in zip(fetch, heads, strict=True):
                found[index] = head
                if head is None:
                    views.remember(keys[index], None)  # a miss is cached too; a hit once its value is read
        return found

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]:
        views, ttl = self._views, self._ttl
        found: list[Entry | None] = [None] * len(keys)
        fetch: list[int] = []
        for index, key in enumerate(keys):
            view = views.cached(key, ttl)
            if view is None:
                fetch.append(index)
            else:
                found[index] = view.entry
        if fetch:
            entries = await self._storage.get_many([keys[index] for index in fetch])
            for index, entry in zip(fetch, entries, strict=True):
                found[index] = entry
                views.remember(keys[index], entry)
        return found
