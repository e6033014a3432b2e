"""``EncryptedNamespace``: a namespace whose engine holds only sealed values and metadata (``envelope``).

Reads open what the engine returns and writes seal before the engine sees them; deletes, expiry and
listing order are the engine's own, on plain key names and expirations. Sealing and opening a value
over ``OFF_LOOP`` bytes runs on a worker thread (``cryptography`` releases the GIL), so a 25 MiB value
never stalls the event loop for the ~20 ms it takes.

Opened values are kept, bounded as the SQLite engine's read cache is (values up to 4 KiB, 2 MiB in
all), each with the very entry object the engine returned. The SQLite engine returns the same object
from its read cache for as long as nothing has committed to the file, so a repeated read costs the
engine's check and a lookup here, not a decryption; any other object (a commit since, or an engine
without a cache) is opened afresh. Listed metadata is kept the same way, by its sealed text and key
name, and whole list pages by their arguments and stored rows: a page whose stored rows are equal
to those of the last listing with the same arguments (the SQLite engine hands back the very same
row objects while nothing has committed) is returned without opening anything. So this process's
memory holds plaintext of recently read entries, as it holds any value a handler reads (README
"Encryption at rest").
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ...errors import StorageError
from ..base import Buffer, Entry, EntryHead, EntryStream, KeyRow, NamespaceStorage, Write
from .envelope import OVERHEAD, Sealer
from .keys import EncryptionKey

__all__ = ["OFF_LOOP", "EncryptedNamespace"]

OFF_LOOP = 64 * 1024  # values sealed or opened on a worker thread from this size
MAX_CACHED_VALUE = 4096
MAX_CACHED_VALUES = 4096
MAX_CACHED_BYTES = 2 * 1024 * 1024
MAX_CACHED_METADATA = 16384
MAX_CACHED_PAGES = 32  # list pages, as the SQLite read cache keeps
MAX_CACHED_PAGE_BYTES = 4 * 1024 * 1024

_Rows = list[KeyRow]  # named here: inside the class, ``list`` is the method
_PageKey = tuple[bytes, bytes | None, int]  # a listing's prefix, start_after and limit


class EncryptedNamespace:
    """The ``NamespaceStorage`` of one namespace, sealing what ``inner`` stores with ``key``."""

    def __init__(self, inner: NamespaceStorage, namespace_id: str, key: EncryptionKey) -> None:
        self.inner = inner
        self.namespace_id = namespace_id
        self._sealer = Sealer(key, namespace_id)
        self._values: dict[bytes, tuple[Entry, Entry]] = {}  # key -> (engine's entry, opened entry)
        self._value_bytes = 0
        self._metadata: dict[str, tuple[bytes, str]] = {}  # sealed text -> (key name, metadata)
        # (prefix, start_after, limit) -> (stored rows, opened rows, bytes of keys and metadata)
        self._pages: dict[_PageKey, tuple[_Rows, _Rows, int]] = {}
        self._page_bytes = 0

    def __repr__(self) -> str:
        return f"EncryptedNamespace({self.namespace_id!r}, key {self._sealer.key.id})"

    # --- opening ---------------------------------------------------------------------------------

    def _open_now(self, key: bytes, entry: Entry) -> Entry:
        value, metadata = self._sealer.open(key, entry.value, entry.metadata)
        return Entry(value, len(value), entry.expiration, metadata)

    async def _open(self, key: bytes, entry: Entry) -> Entry:
        if len(entry.value) > OFF_LOOP:
            return await asyncio.to_thread(self._open_now, key, entry)
        return self._open_now(key, entry)

    def _keep(self, key: bytes, sealed: Entry, opened: Entry) -> None:
        if opened.size > MAX_CACHED_VALUE:
            return
        values = self._values
        old = values.pop(key, None)
        if old is not None:
            self._value_bytes -= old[1].size
        while values and (len(values) >= MAX_CACHED_VALUES or self._value_bytes + opened.size > MAX_CACHED_BYTES):
            self._value_bytes -= values.pop(next(iter(values)))[1].size
        values[key] = (sealed, opened)
        self._value_bytes += opened.size

    def _metadata_of(self, key: bytes, field: str | None) -> str | None:
        if field == self._sealer.no_metadata:
            return None
        kept = self._metadata.get(field) if field is not None else None
        if kept is not None and kept[0] == key:
            return kept[1]
        metadata = self._sealer.metadata(key, field)
        if metadata is not None and field is not None:
            if len(self._metadata) >= MAX_CACHED_METADATA:
                del self._metadata[next(iter(self._metadata))]
            self._metadata[field] = (key, metadata)
        return metadata

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes) -> Entry | None:
        sealed = await self.inner.get(key)
        if sealed is None:
            return None
        kept = self._values.get(key)
        if kept is not None and kept[0] is sealed:
            return kept[1]
        opened = await self._open(key, sealed)
        self._keep(key, sealed, opened)
        return opened

    async def open(self, key: bytes) -> EntryStream | None:
        # A sealed value is authenticated whole before any of it is released, so it is read whole.
        entry = await self.get(key)
        if entry is None:
            return None
        return EntryStream.of(entry)

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]:
        heads = await self.inner.heads(keys)
        return [
            None
            if head is None
            else EntryHead(max(head.size - OVERHEAD, 0), head.expiration, self._metadata_of(key, head.metadata))
            for key, head in zip(keys, heads, strict=True)
        ]

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]:
        entries = await self.inner.get_many(keys)
        opened: list[Entry | None] = []
        for key, entry in zip(keys, entries, strict=True):
            opened.append(None if entry is None else await self._open(key, entry))
        return opened

    async def list(self, prefix: bytes, start_after: bytes | None, limit: int, now: float) -> tuple[list[KeyRow], bool]:
        rows, more = await self.inner.list(prefix, start_after, limit, now)
        page = (prefix, start_after, limit)
        kept = self._pages.get(page)
        # Equal stored rows (the same key names, expirations and sealed metadata texts) open to the
        # same page; comparing them is a C loop, mostly of identical objects from the engine's cache.
        if kept is not None and kept[0] == rows:
            return list(kept[1]), more
        opened = self._metadata_of
        result = [(key, expiration, opened(key, field)) for key, expiration, field in rows]
        self._keep_page(page, rows, result)
        return list(result), more

    def _keep_page(self, page: _PageKey, rows: _Rows, opened: _Rows) -> None:
        pages = self._pages
        old = pages.pop(page, None)
        if old is not None:
            self._page_bytes -= old[2]
        size = sum(len(key) + len(metadata or "") for key, _, metadata in opened)
        if size > MAX_CACHED_PAGE_BYTES:
            return
        while pages and (len(pages) >= MAX_CACHED_PAGES or self._page_bytes + size > MAX_CACHED_PAGE_BYTES):
            self._page_bytes -= pages.pop(next(iter(pages)))[2]
        pages[page] = (rows, opened, size)
        self._page_bytes += size

    # --- writes ----------------------------------------------------------------------------------

    async def put(self, key: bytes, value: Buffer, expiration: int | None, metadata: str | None) -> None:
        if _size(value) > OFF_LOOP:
            blob, field = await asyncio.to_thread(self._sealer.seal, key, value, metadata)
        else:
            blob, field = self._sealer.seal(key, value, metadata)
        await self.inner.put(key, blob, expiration, field)

    async def put_many(self, writes: Sequence[Write]) -> None:
        if sum(_size(write.value) for write in writes) > OFF_LOOP:
            sealed = await asyncio.to_thread(_seal_all, self._sealer, writes)
        else:
            sealed = _seal_all(self._sealer, writes)
        await self.inner.put_many(sealed)

    async def delete(self, key: bytes) -> None:
        await self.inner.delete(key)

    async def delete_many(self, keys: Sequence[bytes]) -> None:
        await self.inner.delete_many(keys)

    def discard_expired(self, key: bytes, now: float) -> None:
        self.inner.discard_expired(key, now)

    async def purge_expired(self, now: float, limit: int) -> int:
        return await self.inner.purge_expired(now, limit)


def _size(value: object) -> int:
    try:
        return memoryview(value).nbytes  # type: ignore[arg-type]  # anything else is refused here
    except TypeError:
        raise StorageError(f"cannot store a value of type {type(value).__name__}; expected bytes") from None


def _seal_all(sealer: Sealer, writes: Sequence[Write]) -> list[Write]:
    sealed = []
    for write in writes:
        blob, field = sealer.seal(write.key, write.value, write.metadata)
        sealed.append(Write(write.key, blob, write.expiration, field))
    return sealed
