"""One namespace in Redis: every read and write is one script against its live generation.

Keys are listed from a sorted set whose scores are all 0, so ``ZRANGE ... BYLEX`` walks them in
byte order (UTF-8 byte order, Cloudflare's); a page starts strictly after the last key of the one
before, a bound, never an offset. Expiry is judged by the caller's ``now`` (workerhost's clock):
an entry expired before it is skipped while listing and deleted lazily or by the sweep.

A value is read whole, in one command, so a stream is one version of it even if it is overwritten
while the caller reads; the stream then hands it out in chunks from memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ...errors import StorageError
from ..base import Buffer, Entry, EntryHead, EntryStream, KeyRow, Write
from .connection import Connector
from .keys import GenerationKeys, NamespaceKeys
from .lifecycle import Lifecycle
from .scripts import STALE

__all__ = ["LIST_BUDGET", "RedisNamespace"]

logger = logging.getLogger("workerhost.kv")

LIST_BUDGET = 10_000  # keys one list script looks at before it hands back, so no script runs long
_ATTEMPTS = 5  # a namespace deleted and created again this many times during one call is left to fail
_FAR = 1e300  # Lua's tonumber reads no "inf"


def _optional(text: str | None) -> bytes:
    # '' for none; '=' before a value, so an empty metadata text is still a value.
    return b"" if text is None else b"=" + text.encode("utf-8", "surrogatepass")


def _expiration(expiration: int | None) -> bytes:
    return b"" if expiration is None else str(int(expiration)).encode()


def _number(raw: bytes | None) -> int | None:
    return None if raw is None else int(raw)


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "surrogatepass")


def _now(now: float) -> bytes:
    return repr(float(max(min(now, _FAR), -_FAR))).encode()


def _value(value: object) -> bytes | memoryview:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        try:
            return memoryview(value).cast("B")
        except TypeError:  # not contiguous: copied
            return bytes(value)
    raise StorageError(f"cannot store a value of type {type(value).__name__}; expected bytes")


def _upper_bound(prefix: bytes) -> bytes:
    # The lex bound just past every key starting with ``prefix``: UTF-8 never holds 0xFF, so the last
    # byte can always be raised by one.
    if not prefix:
        return b"+"
    return b"(" + prefix[:-1] + bytes([prefix[-1] + 1])


class RedisNamespace:
    """The ``NamespaceStorage`` of one namespace id, following it from generation to generation.

    Args:
        connector: the store's connections.
        lifecycle: resolves a generation found not live (``lifecycle.py``).
        namespace_id: the namespace's id (well formed).
        generation: its live generation when the handle was made.
        ttl_margin: seconds past an expiration before Redis may drop an entry by itself.
    """

    def __init__(
        self, connector: Connector, lifecycle: Lifecycle, namespace_id: str, generation: int, ttl_margin: int
    ) -> None:
        self.id = namespace_id
        self.generation = generation
        self._connector = connector
        self._lifecycle = lifecycle
        self._keys: NamespaceKeys = lifecycle.keys(namespace_id)
        self._margin = ttl_margin
        self._discards: list[tuple[bytes, float]] = []
        self._discarding: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"RedisNamespace({self.id!r}, generation {self.generation})"

    async def _run(self, script: str, build: Callable[[GenerationKeys], tuple[list[bytes], list[Any]]]) -> Any:
        """Run ``script`` on the live generation, following the namespace if it was deleted and made again."""
        for _ in range(_ATTEMPTS):
            generation = self.generation
            keys, args = build(self._keys.generation(generation))
            result = await self._connector.script(script, [self._keys.life, *keys], [generation, *args])
            if result != STALE:
                return result
            self.generation = await self._lifecycle.resolve(self.id, generation)
        raise StorageError(f"namespace {self.id} was deleted and created again {_ATTEMPTS} times during one call")

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes) -> Entry | None:
        _, value, expiration, metadata = await self._run("get", lambda own: ([own.entry(key)], []))
        if value is None:
            return None
        return Entry(value, len(value), _number(expiration), _text(metadata))

    async def open(self, key: bytes) -> EntryStream | None:
        entry = await self.get(key)
        if entry is None:
            return None
        return EntryStream.of(entry)

    async def _many(self, keys: Sequence[bytes], field: bytes) -> list[tuple[Any, int | None, str | None] | None]:
        if not keys:
            return []
        unique = list(dict.fromkeys(keys))
        answer = await self._run("many", lambda own: ([own.entry(key) for key in unique], [field]))
        found = {}
        for index, key in enumerate(unique):
            first, expiration, metadata = answer[1 + 3 * index : 4 + 3 * index]
            found[key] = None if first is None else (first, _number(expiration), _text(metadata))
        return [found[key] for key in keys]

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        rows = await self._many(keys, b"s")
        return [None if row is None else EntryHead(int(row[0]), row[1], row[2]) for row in rows]

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]:
        rows = await self._many(keys, b"v")
        return [None if row is None else Entry(row[0], len(row[0]), row[1], row[2]) for row in rows]

    async def list(self, prefix: bytes, start_after: bytes | None, limit: int, now: float) -> tuple[list[KeyRow], bool]:
        if start_after is not None and start_after >= prefix:
            low = b"(" + start_after
        else:
            low = b"[" + prefix
        high = _upper_bound(prefix)
        rows: list[KeyRow] = []
        wanted = limit + 1  # one more than the page says whether more follow
        while True:
            args = [low, high, wanted - len(rows), _now(now), LIST_BUDGET]
            answer = await self._run("list", partial(_page, args))
            resume = answer[1]
            found = answer[2:]
            for index in range(0, len(found), 3):
                rows.append((found[index], _number(found[index + 1]), _text(found[index + 2])))
            if resume is None or len(rows) >= wanted:
                break
            low = b"(" + resume  # the script looked at its budget of dead keys: go on after the last one
        return rows[:limit], len(rows) > limit

    # --- writes ----------------------------------------------------------------------------------

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        await self.put_many([Write(key, value, expiration, metadata)])

    async def put_many(self, writes: Sequence[Write]) -> None:
        if not writes:
            return
        # Every value is checked before anything is sent: one script then writes all or nothing.
        args: list[Any] = [self._margin]
        for write in writes:
            args += [write.key, _value(write.value), _expiration(write.expiration), _optional(write.metadata)]
        await self._settle_discards()
        await self._run("put", partial(_entries, [write.key for write in writes], args))

    async def replace_many(self, writes: Sequence[Write], expected: Sequence[Entry]) -> int:
        if not writes:
            return 0
        args: list[Any] = [self._margin]
        for write, old in zip(writes, expected, strict=True):
            args += [write.key, _value(write.value), _expiration(write.expiration), _optional(write.metadata)]
            args += [_value(old.value), _expiration(old.expiration), _optional(old.metadata)]
        await self._settle_discards()
        answer = await self._run("replace", partial(_entries, [write.key for write in writes], args))
        return int(answer[1])

    async def delete(self, key: bytes) -> None:
        await self.delete_many([key])

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        if not keys:
            return
        await self._settle_discards()
        await self._run("delete", partial(_entries, keys, list(keys)))

    def discard_expired(self, key: bytes, now: float) -> None:
        self._discards.append((key, now))
        if self._discarding is None:
            self._discarding = asyncio.ensure_future(self._discard())

    async def _discard(self) -> None:
        try:
            while self._discards:
                batch, self._discards = self._discards, []
                keys = [key for key, _ in batch]
                args = [part for key, now in batch for part in (key, _now(now))]
                try:
                    await self._run("discard", partial(_entries, keys, args))
                except StorageError as exc:  # lazy expiry only tidies up: the sweep deletes the rest
                    logger.debug("lazy expiry of %d keys failed: %s", len(batch), exc)
        finally:
            self._discarding = None

    async def _settle_discards(self) -> None:
        # Discards asked for before a write run before it, so a write never races an older discard.
        if self._discarding is not None:
            await asyncio.shield(self._discarding)

    async def settle(self) -> None:
        """Wait for the lazy-expiry deletions asked for so far (the store does, before it closes)."""
        await self._settle_discards()

    async def purge_expired(self, now: float, limit: int) -> int:
        await self._settle_discards()
        answer = await self._run("purge", lambda own: ([own.index, own.expiry], [own.entry_prefix, _now(now), limit]))
        return int(answer[1])


def _page(args: list[Any], own: GenerationKeys) -> tuple[list[bytes], list[Any]]:
    return [own.index], [own.entry_prefix, *args]


def _entries(keys: Sequence[bytes], args: list[Any], own: GenerationKeys) -> tuple[list[bytes], list[Any]]:
    return [own.index, own.expiry, *map(own.entry, keys)], args
