"""The storage interface the KV binding runs on.

An engine stores and fetches; it does not judge expiry. The KV service (``bindings.service``) applies
the clock in one place: it passes ``now`` to the calls that must skip dead rows while paging (``list``)
and treats an expired entry from ``get`` as missing. Keys are UTF-8 bytes, so every engine orders
them by bytes, which is Cloudflare's documented order.

Nothing here names SQLite: a Redis engine (several hosts sharing one state) fits the same shape.
How an engine keeps slow work (big values, fsync) off the event loop is its own business; callers
only await. ``tests/bindings/storage/test_contract.py`` is what every engine must pass.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = [
    "ConditionalWrites",
    "Entry",
    "EntryHead",
    "EntryStream",
    "KeyInfo",
    "KeyRow",
    "NamespaceInfo",
    "NamespaceStorage",
    "Store",
    "Write",
]

Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True, slots=True)
class EntryHead:
    """What is stored under a key besides its value: the value's size in bytes, the expiration (whole
    seconds since the epoch) and the metadata JSON text. Lets a caller judge a value before loading it."""

    size: int
    expiration: int | None
    metadata: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored value with its size, expiration (whole seconds since the epoch) and metadata JSON text."""

    value: bytes
    size: int
    expiration: int | None
    metadata: str | None


@dataclass(frozen=True, slots=True)
class EntryStream:
    """A value read as a stream of chunks, from one consistent snapshot.

    The snapshot holds resources in the engine (a read transaction, a connection) until ``chunks``
    is read to the end or the stream is closed, so a caller that may stop early closes it:
    ``await stream.aclose()``, or ``async with stream:``. Closing twice, or after the end, is harmless.
    """

    size: int
    expiration: int | None
    metadata: str | None
    chunks: AsyncGenerator[bytes, None]

    @classmethod
    def of(cls, entry: Entry) -> EntryStream:
        """A stream of an entry already read whole (engines that hold no snapshot for a stream)."""
        return cls(entry.size, entry.expiration, entry.metadata, _slices(entry.value))

    async def aclose(self) -> None:
        """Release the snapshot; ``chunks`` yields nothing more."""
        await self.chunks.aclose()

    async def __aenter__(self) -> EntryStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


# Chunks no larger than a read of a SQLite stream, so every engine's stream is consumed alike.
_STREAM_CHUNK = 256 * 1024


async def _slices(value: bytes) -> AsyncGenerator[bytes, None]:
    view = memoryview(value)
    for start in range(0, len(view), _STREAM_CHUNK):
        yield bytes(view[start : start + _STREAM_CHUNK])
    if not view:
        yield b""


class KeyInfo(NamedTuple):
    """One row of a key listing. Engines may return plain ``(key, expiration, metadata)`` tuples (``KeyRow``)."""

    key: bytes
    expiration: int | None
    metadata: str | None


# A listing builds one of these per key, so the shape is a plain tuple: engines need not build objects.
KeyRow = tuple[bytes, int | None, str | None]


@dataclass(frozen=True, slots=True)
class Write:
    """One pair of an atomic multi-key write."""

    key: bytes
    value: Buffer
    expiration: int | None = None
    metadata: str | None = None


@dataclass(frozen=True, slots=True)
class NamespaceInfo:
    """A namespace in the catalog: a 32-hex-digit id and a unique title."""

    id: str
    title: str


class NamespaceStorage(Protocol):
    """The keys and values of one namespace.

    Every write coroutine returns only once the write is durable (committed); concurrent writes may
    share a commit. Reads see every write acknowledged before them, from this process or any other.
    A write the engine cannot carry out raises ``StorageError`` (``StorageFullError`` when out of
    room, ``StorageLockedError`` when another process holds the data locked too long) and changes
    nothing.

    It stands for its namespace's id, wherever the data lives now: once the namespace is deleted (by
    this store or any other), every operation raises ``NamespaceNotFoundError`` and no write is
    acknowledged; once it is created again with the same id, operations go to the new, empty one.
    """

    async def get(self, key: bytes) -> Entry | None:
        """The entry under ``key`` with its value loaded, or None. Expired entries are returned too."""
        ...

    async def open(self, key: bytes) -> EntryStream | None:
        """The entry under ``key`` with its value as a stream of chunks, or None. Expired entries are returned too.

        The chunks are one version of the value even if it is overwritten while they are read.
        """
        ...

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        """The heads of the entries under ``keys``, in order (None where missing), without loading any value.

        Cheap whatever the values' sizes: a caller with a budget (a bulk get's 25 MiB) checks it here
        before it asks for the values.
        """
        ...

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]:
        """The entries under ``keys`` with their values loaded, in order (None where missing)."""
        ...

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        """Replace the whole entry under ``key``: value, expiration and metadata."""
        ...

    async def put_many(self, writes: Sequence[Write]) -> None:
        """Apply all ``writes`` in one transaction: all of them or none, and no reader sees a part."""
        ...

    async def delete(self, key: bytes) -> None:
        """Delete ``key``; a missing key is not an error."""
        ...

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        """Delete all ``keys`` in one transaction."""
        ...

    async def list(self, prefix: bytes, start_after: bytes | None, limit: int, now: float) -> tuple[list[KeyRow], bool]:
        """Up to ``limit`` live keys with ``prefix``, after ``start_after``, in byte order, as ``KeyRow`` tuples.

        A key is live if it has no expiration or ``expiration >= now``. Returns the keys and whether
        more live keys follow. Keys come strictly after ``start_after`` (None, or a key before the
        prefix, starts at the prefix). Reads only the page it returns (plus dead rows skipped on the way).
        """
        ...

    def discard_expired(self, key: bytes, now: float) -> None:
        """Schedule deletion of ``key`` if its expiration is still before ``now`` (lazy expiry); do not wait.

        The condition is judged when the deletion runs, so a key rewritten meanwhile stays; the
        deletion runs before any write of this namespace requested after the call.
        """
        ...

    async def purge_expired(self, now: float, limit: int) -> int:
        """Delete up to ``limit`` entries that expired before ``now``; return how many were deleted."""
        ...


@runtime_checkable
class ConditionalWrites(NamespaceStorage, Protocol):
    """A namespace storage that replaces entries only if they are unchanged: every engine's own storage.

    What a tool rewriting stored entries in place needs (``encryption.rekey``): it reads entries, works on
    them, and writes them back without losing a write another process made in between.
    """

    async def replace_many(self, writes: Sequence[Write], expected: Sequence[Entry]) -> int:
        """In one transaction, apply each write whose key still holds exactly ``expected[i]`` (the same value
        bytes, expiration and metadata); skip the others (changed, or deleted). Returns how many were applied."""
        ...


class Store(Protocol):
    """A catalog of namespaces and the storage of each."""

    async def create_namespace(self, title: str, namespace_id: str | None = None) -> NamespaceInfo:
        """Create a namespace; raises ``NamespaceTitleError`` if the title is missing or taken."""
        ...

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None: ...

    async def find_namespace(self, title: str) -> NamespaceInfo | None: ...

    async def list_namespaces(self) -> list[NamespaceInfo]:
        """Every namespace, ordered by title."""
        ...

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo: ...

    async def delete_namespace(self, namespace_id: str) -> None:
        """Delete a namespace and all its keys; raises ``NamespaceNotFoundError`` if missing.

        All or nothing, even if the process dies midway: the namespace stays with every key, or is gone
        with every key, and a namespace created again with the id starts empty.
        """
        ...

    async def namespace(self, namespace_id: str) -> NamespaceStorage:
        """The storage of an existing namespace; raises ``NamespaceNotFoundError`` if missing."""
        ...

    async def read_setting(self, name: str) -> str | None:
        """The store-wide setting called ``name``, or None if it was never written (or was deleted).

        Settings are a few small named texts kept with the catalog, seen by every process using the
        store (the encryption key check, README "Encryption at rest"). The engine does not read them.
        """
        ...

    async def write_setting(self, name: str, value: str | None, *, expected: str | None) -> bool:
        """Set the setting ``name`` to ``value`` (None deletes it), but only if it holds ``expected`` now.

        A compare-and-set, atomic across every process and host using the store: of two callers that
        expect the same value, one succeeds. Returns whether it was written; durable once it returns True.
        """
        ...

    async def purge_expired(self, now: float) -> int:
        """Delete expired entries in every namespace; return how many."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release files."""
        ...
