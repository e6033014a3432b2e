"""``observed(storage, ...)``: a namespace's storage that records each acknowledged write in a ``ChangeFeed``.

The reads are the storage's own bound methods, set on the instance, so reading through it costs
nothing. A write is recorded after it returns: a refused or failed write records nothing. Lazy
expiry and the sweep delete keys too, but nobody asked for those deletes, so they are not news.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..storage.base import Buffer, NamespaceStorage, Write
from .feed import ChangeFeed

__all__ = ["ObservedNamespace", "observed"]


class ObservedNamespace:
    """A ``NamespaceStorage`` that tells ``feed`` of every write it makes, as made by ``source``."""

    def __init__(self, storage: NamespaceStorage, feed: ChangeFeed, namespace_id: str, source: str) -> None:
        self.inner = storage
        self._feed = feed
        self._namespace_id = namespace_id
        self._source = source
        self.get = storage.get
        self.open = storage.open
        self.heads = storage.heads
        self.get_many = storage.get_many
        self.list = storage.list
        self.discard_expired = storage.discard_expired
        self.purge_expired = storage.purge_expired

    def __repr__(self) -> str:
        return f"ObservedNamespace({self.inner!r}, source={self._source!r})"

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        await self.inner.put(key, value, expiration, metadata)
        self._feed.keys_changed("put", self._namespace_id, (key,), self._source)

    async def put_many(self, writes: Sequence[Write]) -> None:
        await self.inner.put_many(writes)
        self._feed.keys_changed("put", self._namespace_id, [write.key for write in writes], self._source)

    async def delete(self, key: bytes) -> None:
        await self.inner.delete(key)
        self._feed.keys_changed("delete", self._namespace_id, (key,), self._source)

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        await self.inner.delete_many(keys)
        self._feed.keys_changed("delete", self._namespace_id, keys, self._source)


def observed(storage: NamespaceStorage, feed: ChangeFeed | None, namespace_id: str, source: str) -> NamespaceStorage:
    """``storage`` recording its writes in ``feed``; ``storage`` itself when there is no feed."""
    if feed is None:
        return storage
    return ObservedNamespace(storage, feed, namespace_id, source)
