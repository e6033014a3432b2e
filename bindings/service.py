"""The KV service: the server side of every KV operation, shared by the binding, the REST API and the CLI.

In Cloudflare the binding (workerd) checks key names and sends a request; the KV service then
validates the request's wire form and reads or writes. ``KVService`` is that second half. Callers
hand it keys they have already checked (the binding with workerd's client-side rules, the REST API
with the service's ``check_key``) and options in wire form (strings as a query string carries
them), so each check lives in ``limits`` once and runs once per request.

It is also the one place that judges expiry against the clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .clock import Clock
from .errors import KVError
from .javascript import parse_json
from .limits import (
    MAX_BULK_GET_BYTES,
    MAX_LIST_LIMIT,
    MAX_VALUE_BYTES,
    check_bulk_count,
    check_bulk_type,
    check_cache_ttl,
    check_key,
    check_list_limit,
    check_metadata,
    check_prefix,
    check_value_size,
    resolve_expiration,
    unsupported_value,
)
from .results import ListKey, ListResult, ValueWithMetadata
from .storage.base import Buffer, Entry, EntryHead, EntryStream, KeyRow, NamespaceStorage, Write

__all__ = [
    "BulkReader",
    "BulkWrite",
    "KVService",
    "decode_cursor",
    "encode_cursor",
    "list_page",
    "list_query",
    "prepare_write",
]

_JUDGED_BEFORE_REFUSAL = 64 * 1024  # see KVService._judge_small_values


def encode_cursor(key: bytes) -> str:
    """A list cursor: the last key returned, base64-encoded, as Miniflare makes them."""
    return base64.b64encode(key).decode("ascii")


def decode_cursor(cursor: str) -> bytes:
    """The key a cursor points after. Lenient, like Miniflare's ``Buffer.from(cursor, "base64")``."""
    text = cursor.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KVError(400, "Invalid cursor") from None


@dataclass(frozen=True, slots=True)
class BulkWrite:
    """One pair of a bulk write in wire form (REST ``PUT /bulk``, ``workerhost kv bulk put``)."""

    key: str
    value: bytes
    expiration: str | None = None
    expiration_ttl: str | None = None
    metadata: str | None = None


def prepare_write(item: BulkWrite, now: float) -> Write:
    """Validate one pair as a single put at time ``now`` would be, in the service's order; raises ``KVError``.

    A function of its own, so a caller can check every pair before it opens (or creates) a namespace.
    """
    encoded = check_key(item.key)
    expires = resolve_expiration(math.floor(now), item.expiration, item.expiration_ttl)
    metadata_json = check_metadata(item.metadata)
    check_value_size(len(item.value))
    return Write(encoded, item.value, expires, metadata_json)


def list_query(prefix: str | None, limit: int | None, cursor: str | None) -> tuple[bytes, bytes | None, int]:
    """A list call's options checked and in the storage's terms: (prefix, key to start after, page size)."""
    if limit is not None:
        check_list_limit(limit)
    prefix_bytes = b"" if prefix is None else check_prefix(prefix)
    after = decode_cursor(cursor) if cursor else None
    return prefix_bytes, after, limit or MAX_LIST_LIMIT


def list_page(rows: Sequence[KeyRow], resume_after: bytes | None) -> ListResult:
    """A page of ``rows``; ``resume_after`` is the key its cursor continues after (None: the list is complete)."""
    decode = bytes.decode
    keys = [ListKey(decode(key, "utf-8", "replace"), expiration, metadata) for key, expiration, metadata in rows]
    next_cursor = None if resume_after is None else encode_cursor(resume_after)
    return ListResult(keys, list_complete=next_cursor is None, cursor=next_cursor)


class BulkReader(Protocol):
    """What a bulk get reads: heads first (to judge the 25 MiB total), then values."""

    async def heads(self, keys: Sequence[bytes]) -> list[EntryHead | None]: ...

    async def get_many(self, keys: Sequence[bytes]) -> list[Entry | None]: ...


def _bulk_too_large() -> KVError:
    return KVError(413, f"Total size of request exceeds the limit of {MAX_BULK_GET_BYTES / 1024 / 1024:g}MB")


@dataclass(frozen=True, slots=True)
class _BulkShape:
    """How a bulk get presents each value."""

    value_type: str
    with_metadata: bool
    with_expiration: bool
    strict_text: bool


def _bulk_value(entry: Entry, shape: _BulkShape) -> Any:
    text = _decode(entry.value, shape.strict_text)
    if shape.value_type == "json":
        try:
            value = parse_json(text)  # as JSON.parse: a 5,000-digit number is a huge double, NaN no JSON
        except (ValueError, RecursionError):
            raise KVError(400, "At least one of the requested keys corresponds to a non-json value") from None
    else:
        value = text
    if value is None or not shape.with_metadata:
        return value  # a JSON null reads as a missing key, as in Miniflare
    expiration = entry.expiration if shape.with_expiration else None
    return ValueWithMetadata(value, _parse_metadata(entry.metadata), expiration)


def _parse_metadata(metadata: str | None) -> Any:
    return None if metadata is None else json.loads(metadata)


def _decode(value: bytes, strict: bool) -> str:
    if not strict:
        return value.decode("utf-8", "replace")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise KVError(400, "At least one of the requested keys corresponds to a non-text value", code=10029) from None


async def read_stream(stream: AsyncIterable[Any], *, drain: bool) -> bytearray:
    """Collect a value stream, enforcing the 25 MiB limit.

    Args:
        drain: count the whole stream before refusing it, so the error states its real length (as
            Miniflare does for the binding); otherwise stop at the first byte over the limit (the
            REST API must not wait on a body that never ends).
    """
    data = bytearray()
    length = 0
    async for chunk in stream:
        try:
            view = memoryview(chunk)
        except TypeError:
            raise unsupported_value() from None
        length += view.nbytes
        if length <= MAX_VALUE_BYTES:
            data += view
        elif not drain:
            break
    check_value_size(length)
    return data


class KVService:
    """KV operations on one namespace, validated as Cloudflare's KV service validates them.

    Args:
        storage: the namespace's storage engine.
        clock: the time expiry is judged by.
    """

    __slots__ = ("storage", "clock")

    def __init__(self, storage: NamespaceStorage, clock: Clock) -> None:
        self.storage = storage
        self.clock = clock

    def live(self, entry: EntryHead | Entry | EntryStream, key: bytes) -> bool:
        """Whether ``entry`` (read under ``key``) has not expired; an entry past its expiration is discarded."""
        # get treats an entry as gone once its expiration is not after now, but list still shows
        # it during that exact second, as Miniflare's list keeps expiration >= now; the row is deleted
        # lazily only past it.
        expiration = entry.expiration
        if expiration is None:
            return True
        now = self.clock.now()
        if expiration > now:
            return True
        if expiration < now:
            self.storage.discard_expired(key, now)
        return False

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, key: bytes, cache_ttl: int | None = None) -> Entry | None:
        """The live entry under a checked key, value loaded; ``cache_ttl`` is validated and ignored."""
        if cache_ttl is not None:
            check_cache_ttl(cache_ttl)
        entry = await self.storage.get(key)
        if entry is None or not self.live(entry, key):
            return None
        return entry

    async def open(self, key: bytes, cache_ttl: int | None = None) -> EntryStream | None:
        """Like ``get``, with the value as a stream of chunks."""
        if cache_ttl is not None:
            check_cache_ttl(cache_ttl)
        stream = await self.storage.open(key)
        if stream is None:
            return None
        if not self.live(stream, key):
            await stream.aclose()
            return None
        return stream

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
        """Read 1..100 keys as text or JSON: a dict of key → value (or ``ValueWithMetadata``), None if missing.

        Checks run in Miniflare's order: type, count, each key (and ``cache_ttl``), then values
        (non-JSON), then the 25 MiB total. ``strict_text`` refuses non-UTF-8 values (the REST API's
        10029) where the binding decodes them leniently.
        """
        return await self._bulk(
            self.storage,
            keys,
            value_type,
            cache_ttl=cache_ttl,
            with_metadata=with_metadata,
            with_expiration=with_expiration,
            strict_text=strict_text,
        )

    async def _bulk(
        self,
        reader: BulkReader,
        keys: Sequence[Any],
        value_type: Any,
        *,
        cache_ttl: int | None,
        with_metadata: bool,
        with_expiration: bool,
        strict_text: bool,
    ) -> dict[str, Any]:
        # ``reader`` is the storage, or what a fidelity layer reads it through.
        effective_type = check_bulk_type(value_type)
        check_bulk_count(len(keys))
        encoded: dict[str, bytes] = {}
        for key in keys:
            encoded[key] = check_key(key)
            if cache_ttl is not None:
                check_cache_ttl(cache_ttl)
        names = list(encoded)  # duplicate keys collapse into one entry, as in a JS Map
        shape = _BulkShape(effective_type, with_metadata, with_expiration, strict_text)
        # The sizes first: a request over the total is refused without loading 100 values of 25 MiB.
        heads = await reader.heads([encoded[name] for name in names])
        live = {
            name: head
            for name, head in zip(names, heads, strict=True)
            if head is not None and self.live(head, encoded[name])
        }
        if sum(head.size for head in live.values()) > MAX_BULK_GET_BYTES:
            await self._judge_small_values(reader, live, encoded, shape)
            raise _bulk_too_large()
        entries = await reader.get_many([encoded[name] for name in live])
        results: dict[str, Any] = dict.fromkeys(names)
        total = 0
        for name, entry in zip(live, entries, strict=True):
            # Written, deleted or expired since the heads were read: the entry as loaded is the answer.
            if entry is not None and self.live(entry, encoded[name]):
                results[name] = _bulk_value(entry, shape)
                total += entry.size
        if total > MAX_BULK_GET_BYTES:
            raise _bulk_too_large()
        return results

    async def _judge_small_values(
        self, reader: BulkReader, live: dict[str, EntryHead], encoded: dict[str, bytes], shape: _BulkShape
    ) -> None:
        """Before refusing a bulk get as too large, judge its small values: one that is not JSON is a 400.

        Miniflare judges every value before the total (the 413). Loading every value would cost
        what the limit exists to avoid, so only values up to ``_JUDGED_BEFORE_REFUSAL`` bytes are
        loaded to be judged (at most 100 of them), as this service always has; big ones never are.
        """
        if shape.value_type != "json" and not shape.strict_text:
            return  # nothing about a text value can be refused
        small = [encoded[name] for name, head in live.items() if head.size <= _JUDGED_BEFORE_REFUSAL]
        for entry in await reader.get_many(small):
            if entry is not None:
                _bulk_value(entry, shape)

    async def list(self, prefix: str | None = None, limit: int | None = None, cursor: str | None = None) -> ListResult:
        """A page of live keys in UTF-8 byte order; ``limit`` None means the default (1000)."""
        prefix_bytes, after, count = list_query(prefix, limit, cursor)
        rows, more = await self.storage.list(prefix_bytes, after, count, self.clock.now())
        # ``list_page``'s work inline: this runs on every list call.
        decode = bytes.decode
        keys = [ListKey(decode(key, "utf-8", "replace"), expiration, metadata) for key, expiration, metadata in rows]
        next_cursor = encode_cursor(rows[-1][0]) if more else None
        return ListResult(keys, list_complete=next_cursor is None, cursor=next_cursor)

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
        """Store a value under a checked key, after the service's checks in their order.

        Args:
            expiration, expiration_ttl: the query parameters as sent; the TTL wins.
            metadata: the metadata JSON text, or None.
            length_hint: the body's length if known (``Content-Length``), checked before reading.
            drain: see ``read_stream``.
        """
        value, expires, metadata_json = await self._checked_put(
            body, expiration, expiration_ttl, metadata, length_hint, drain
        )
        await self.storage.put(key, value, expires, metadata_json)

    async def _checked_put(
        self,
        body: Buffer | AsyncIterable[Any],
        expiration: str | None,
        expiration_ttl: str | None,
        metadata: str | None,
        length_hint: int | None,
        drain: bool,
    ) -> tuple[Buffer, int | None, str | None]:
        # A put's checks in the service's order; the value read whole. Returns what to store.
        expires = resolve_expiration(math.floor(self.clock.now()), expiration, expiration_ttl)
        metadata_json = check_metadata(metadata)
        if length_hint is not None:
            check_value_size(length_hint)
        if isinstance(body, AsyncIterable):
            body = await read_stream(body, drain=drain)
        else:
            check_value_size(len(body))
        return body, expires, metadata_json

    def prepare(self, item: BulkWrite) -> Write:
        """Validate one pair of a bulk write as a single put would be; raises ``KVError``."""
        return prepare_write(item, self.clock.now())

    async def put_many(self, writes: Sequence[Write]) -> None:
        """Store prepared pairs atomically: all of them or none."""
        await self.storage.put_many(writes)

    async def delete(self, key: bytes) -> None:
        await self.storage.delete(key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        """Delete many keys atomically, after checking every key (so a bad key deletes nothing)."""
        await self.storage.delete_many([check_key(key) for key in keys])
