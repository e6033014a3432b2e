"""The KV service with production-fidelity modes: ``KVService`` plus rate limits, an operation budget
and an edge location's views, each present only when its mode is on (README, "Production fidelity").

A namespace with every mode off never gets one of these: ``NamespaceFidelity.service`` is only asked
for when a mode is on, so the plain service keeps its speed.

One namespace is served in two roles. Its bindings (handlers, and tests calling them) read at the
simulated edge location, through its views and lagging lists; with ``writes: same_location`` their
writes update the views, with ``another_location`` the location keeps what it saw before. The REST
API reads the store itself, so a test can always check the truth over REST (workerhost's choice),
and its writes reach the location the way writes made elsewhere do: when the location's views age
out. Both roles share the namespace's rate limits and list lag.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterable, Sequence
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..limits import check_cache_ttl, check_key
from ..results import ListResult
from ..service import KVService, list_page, list_query
from ..storage.base import Buffer, Entry, EntryHead, EntryStream, NamespaceStorage, Write
from .listlag import Prior
from .operations import spend_operation

if TYPE_CHECKING:
    from .state import NamespaceFidelity

__all__ = ["FidelityService"]


def _prior(before: Entry | EntryHead | None) -> Prior:
    return None if before is None else (before.expiration, before.metadata)


class FidelityService(KVService):
    """``KVService`` for one namespace with its fidelity modes, in one role.

    Args:
        storage: the namespace's storage engine.
        clock: the injected clock every mode judges time by.
        fidelity: the namespace's shared fidelity state.
        edge: True for its bindings (reads at the edge location), False for the REST API.
    """

    __slots__ = ("_counted", "_limiter", "_views", "_lag", "_lagged_lists", "_writes_here", "_cache_ttl")

    def __init__(self, storage: NamespaceStorage, clock: Clock, fidelity: NamespaceFidelity, *, edge: bool) -> None:
        super().__init__(storage, clock)
        settings = fidelity.settings
        self._counted = settings.strict_limits
        self._limiter = fidelity.rate_limiter
        self._views = fidelity.views if edge else None
        self._lag = fidelity.list_lag
        self._lagged_lists = edge and fidelity.list_lag is not None
        self._writes_here = settings.writes == "same_location"
        self._cache_ttl = settings.cache_ttl

    def _spend(self) -> None:
        if self._counted:
            spend_operation()

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes, cache_ttl: int | None = None) -> Entry | None:
        self._spend()
        if self._views is None:
            return await super().get(key, cache_ttl)
        return await self._edge_get(key, cache_ttl)

    async def _edge_get(self, key: bytes, cache_ttl: int | None) -> Entry | None:
        if cache_ttl is not None:
            check_cache_ttl(cache_ttl)
        views = self._views
        assert views is not None
        entry = await views.get(self.storage, key, cache_ttl or self._cache_ttl)
        if entry is None or not self.live(entry, key):
            return None
        return entry

    async def open(self, key: bytes, cache_ttl: int | None = None) -> EntryStream | None:
        self._spend()
        if self._views is None:
            return await super().open(key, cache_ttl)
        # The location caches whole values, so a stream is served from the view's bytes.
        entry = await self._edge_get(key, cache_ttl)
        if entry is None:
            return None
        return EntryStream.of(entry)

    async def get_bulk(
        self,
        keys: Sequence[Any],
        value_type: Any = None,
        *,
        cache_ttl: int | None = None,
        with_metadata: bool = False,
        with_expiration: bool = False,
        strict_text: bool = False,
    ) -> dict[str, Any]:
        self._spend()  # one operation, however many keys
        views = self._views
        reader = self.storage if views is None else views.reader(self.storage, cache_ttl or self._cache_ttl)
        return await self._bulk(
            reader,
            keys,
            value_type,
            cache_ttl=cache_ttl,
            with_metadata=with_metadata,
            with_expiration=with_expiration,
            strict_text=strict_text,
        )

    async def list(self, prefix: str | None = None, limit: int | None = None, cursor: str | None = None) -> ListResult:
        self._spend()
        if not self._lagged_lists:
            return await super().list(prefix, limit, cursor)
        lag = self._lag
        assert lag is not None
        prefix_bytes, after, count = list_query(prefix, limit, cursor)
        rows, resume_after = await lag.list(self.storage, prefix_bytes, after, count, self.clock.now())
        return list_page(rows, resume_after)

    # --- writes ----------------------------------------------------------------------------------

    async def put(
        self,
        key: bytes,
        body: Buffer | AsyncIterable[Any],
        *,
        expiration: str | None = None,
        expiration_ttl: str | None = None,
        metadata: str | None = None,
        length_hint: int | None = None,
        drain: bool = True,
    ) -> None:
        self._spend()
        value, expires, metadata_json = await self._checked_put(
            body, expiration, expiration_ttl, metadata, length_hint, drain
        )
        await self._write([Write(key, value, expires, metadata_json)])

    async def put_many(self, writes: Sequence[Write]) -> None:
        await self._write(writes)  # a bulk write is a REST request: no invocation counts it

    async def delete(self, key: bytes) -> None:
        self._spend()
        await self._remove([key])

    async def delete_many(self, keys: Sequence[str]) -> None:
        await self._remove([check_key(key) for key in keys])

    async def _write(self, writes: Sequence[Write]) -> None:
        keys = [write.key for write in writes]
        reservation = None if self._limiter is None else self._limiter.reserve(keys)
        try:
            before = await self._before(keys)
            if len(writes) == 1:
                write = writes[0]
                await self.storage.put(write.key, write.value, write.expiration, write.metadata)
            else:
                await self.storage.put_many(writes)
        except BaseException:
            if reservation is not None:
                assert self._limiter is not None
                self._limiter.release(reservation)
            raise
        if before is not None:
            entries = [Entry(bytes(w.value), len(w.value), w.expiration, w.metadata) for w in writes]
            self._changed(keys, entries, before)

    async def _remove(self, keys: Sequence[bytes]) -> None:
        before = await self._before(keys)
        if len(keys) == 1:
            await self.storage.delete(keys[0])
        else:
            await self.storage.delete_many(keys)
        if before is not None:
            self._changed(keys, [None] * len(keys), before)

    async def _before(self, keys: Sequence[bytes]) -> Sequence[Entry | EntryHead | None] | None:
        """What ``keys`` hold before a change, live entries only; None when nothing needs it (not eventual).

        The list lag needs heads; a write from another location needs whole entries, which the
        location goes on seeing until its views age out.
        """
        if self._lag is None:
            return None
        views = self._views
        found: builtins.list[Entry | EntryHead | None] = [*await self.storage.heads(keys)]
        if views is not None and not self._writes_here:
            unseen = [index for index, key in enumerate(keys) if views.cached(key, self._cache_ttl) is None]
            if unseen:
                entries = await self.storage.get_many([keys[index] for index in unseen])
                for index, entry in zip(unseen, entries, strict=True):
                    found[index] = entry
        now = self.clock.now()
        return [
            None if item is None or (item.expiration is not None and item.expiration <= now) else item for item in found
        ]

    def _changed(
        self, keys: Sequence[bytes], after: Sequence[Entry | None], before: Sequence[Entry | EntryHead | None]
    ) -> None:
        lag, views = self._lag, self._views
        assert lag is not None
        for key, new, old in zip(keys, after, before, strict=True):
            lag.note(key, _prior(old))
            if views is None:
                continue  # the REST API: the change reaches the location as one made elsewhere
            if self._writes_here:
                views.remember(key, new)
            else:
                views.keep_or_remember(key, old if isinstance(old, Entry) else None, self._cache_ttl)
