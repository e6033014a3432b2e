"""The Workers KV binding a handler receives as ``env.MY_KV``.

Behaviour follows Cloudflare (KV-SPEC.md §1–2): the same methods, argument styles, result shapes,
validation order and error texts. In workerd every call is two steps, and so it is here:

1. the binding coerces numeric options to int32 and checks key names (``KVTypeError``, 414);
2. the KV service checks the wire form of the request (``bindings.limits``), then reads or writes.

Both snake_case keywords and the camelCase spellings of Cloudflare's Python Workers are accepted,
and options may come as keywords or as one dict, as scripts written for Cloudflare pass them.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from typing import Any, Literal, NoReturn

from .clock import Clock, SystemClock
from .errors import KVError, KVTypeError
from .limits import (
    MAX_BULK_GET_BYTES,
    MAX_LIST_LIMIT,
    MAX_VALUE_BYTES,
    check_bulk_count,
    check_bulk_type,
    check_cache_ttl,
    check_key,
    check_key_name,
    check_list_limit,
    check_metadata_size,
    check_prefix,
    check_value_size,
    encode_metadata,
    resolve_expiration,
    to_int32,
)
from .results import GetWithMetadataResult, ListKey, ListResult, ValueWithMetadata
from .storage.base import Entry, NamespaceStorage

__all__ = ["KVNamespace", "ValueType"]

ValueType = Literal["text", "json", "bytes", "arrayBuffer", "stream"]
_UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'
_BAD_VALUE = "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
_BAD_BULK_JSON = "At least one of the requested keys corresponds to a non-json value"


def _raise_for(op: str, error: KVError) -> NoReturn:
    raise error.for_op(op) from None


def _option(options: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = options.get(name)
        if value is not None:
            return value
    return None


def _as_options(options: Any, method: str) -> Mapping[str, Any]:
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return options
    raise TypeError(f"{method}() options must be a dict or None, got {type(options).__name__}")


def _decode_text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def _convert(value: bytes, value_type: str) -> Any:
    if value_type == "text":
        return _decode_text(value)
    if value_type == "json":
        return json.loads(_decode_text(value))
    if value_type == "bytes":
        return bytes(value)
    if value_type == "arrayBuffer":
        return memoryview(value)
    raise TypeError(_UNKNOWN_TYPE)


def _parse_metadata(metadata: str | None) -> Any:
    return None if metadata is None else json.loads(metadata)


def _js_string(value: int | float) -> str:
    # What String(n) gives in JS for the numbers a Python caller may pass as a value.
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
    return str(value)


def _encode_value(value: Any) -> bytes | bytearray | memoryview | AsyncIterable[Any]:
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates become U+FFFD, as JS strings do on the wire
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int | float):
        return _js_string(value).encode()
    if isinstance(value, AsyncIterable):
        return value
    try:
        return bytes(memoryview(value))  # bytearray, memoryview, array.array...: copied, as workerd does
    except TypeError:
        raise KVTypeError(400, _BAD_VALUE) from None


async def _read_stream(stream: AsyncIterable[Any]) -> bytes | bytearray:
    # Count every byte, as Miniflare does, so the error states the stream's real length; keep none
    # past the limit.
    data = bytearray()
    length = 0
    async for chunk in stream:
        try:
            view = memoryview(chunk)
        except TypeError:
            raise KVTypeError(400, _BAD_VALUE) from None
        length += view.nbytes
        if length <= MAX_VALUE_BYTES:
            data += view
    check_value_size(length)
    return data


def encode_cursor(key: bytes) -> str:
    """A list cursor: the last key returned, base64-encoded, as Miniflare makes them."""
    return base64.b64encode(key).decode("ascii")


def decode_cursor(cursor: str) -> bytes:
    """The key a cursor points after. Lenient like Miniflare's ``Buffer.from(cursor, "base64")``."""
    text = cursor.strip().replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KVError(400, "Invalid cursor") from None


class KVNamespace:
    """A Workers KV namespace binding.

    Args:
        storage: the namespace's storage engine.
        clock: where the time comes from; expiry is judged against it.
        name: the binding's variable name, for messages and ``repr``.
    """

    __slots__ = ("_storage", "_clock", "name")

    def __init__(self, storage: NamespaceStorage, clock: Clock | None = None, *, name: str = "KV") -> None:
        self._storage = storage
        self._clock: Clock = clock or SystemClock()
        self.name = name

    def __repr__(self) -> str:
        return f"<KvNamespace {self.name}>"

    # A binding is truthy but neither iterable nor sized, as in Cloudflare's Python Workers.
    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> NoReturn:
        raise TypeError("'KvNamespace' object is not iterable")

    def __len__(self) -> NoReturn:
        raise TypeError("object of type 'KvNamespace' has no len()")

    def __reduce__(self) -> NoReturn:
        raise TypeError("A KV namespace binding cannot be serialized.")

    @property
    def storage(self) -> NamespaceStorage:
        """The storage engine under this binding (for tools; handlers use the methods below)."""
        return self._storage

    def _live(self, entry: Entry | Any, key: bytes) -> bool:
        # Expiry is judged here and only here: an entry is gone once its expiration is not after now.
        expiration = entry.expiration
        if expiration is None:
            return True
        now = self._clock.now()
        if expiration > now:
            return True
        self._storage.discard_expired(key, now)
        return False

    # --- get ---------------------------------------------------------------------------------------

    async def get(
        self,
        key: str | Sequence[str],
        options: str | Mapping[str, Any] | None = None,
        /,
        *,
        type: str | None = None,  # the Workers option name
        cache_ttl: Any = None,
        cacheTtl: Any = None,  # Python Workers spelling
    ) -> Any:
        """Read a value, or a dict of values for a list of keys (1 to 100, text or json only).

        ``type`` is ``"text"`` (default), ``"json"``, ``"bytes"``, ``"arrayBuffer"`` (a memoryview)
        or ``"stream"`` (an async iterator of bytes). It may also be given positionally, or in an
        options dict with ``cacheTtl``. Returns None for a missing or expired key.
        """
        value_type, raw_ttl = self._get_options(options, type, cache_ttl if cache_ttl is not None else cacheTtl)
        if isinstance(key, list | tuple):
            return await self._get_bulk(key, value_type, raw_ttl, with_metadata=False)
        found = await self._get_one(key, value_type, raw_ttl)
        return None if found is None else found[0]

    async def get_with_metadata(
        self,
        key: str | Sequence[str],
        options: str | Mapping[str, Any] | None = None,
        /,
        *,
        type: str | None = None,
        cache_ttl: Any = None,
        cacheTtl: Any = None,
    ) -> Any:
        """Like ``get``, with metadata: ``.value``, ``.metadata``, ``.cache_status``.

        For a list of keys: a dict of ``{value, metadata}`` results, None for missing keys.
        """
        value_type, raw_ttl = self._get_options(options, type, cache_ttl if cache_ttl is not None else cacheTtl)
        if isinstance(key, list | tuple):
            return await self._get_bulk(key, value_type, raw_ttl, with_metadata=True)
        found = await self._get_one(key, value_type, raw_ttl)
        if found is None:
            return GetWithMetadataResult(None, None)
        return GetWithMetadataResult(found[0], _parse_metadata(found[1]))

    getWithMetadata = get_with_metadata  # the Python Workers spelling

    @staticmethod
    def _get_options(options: Any, value_type: str | None, cache_ttl: Any) -> tuple[str | None, Any]:
        if isinstance(options, str):
            value_type = value_type or options
        else:
            given = _as_options(options, "get")
            value_type = value_type or given.get("type")
            if cache_ttl is None:
                cache_ttl = _option(given, "cacheTtl", "cache_ttl")
        return value_type, cache_ttl

    async def _get_one(self, key: str, value_type: str | None, raw_ttl: Any) -> tuple[Any, str | None] | None:
        value_type = value_type or "text"
        try:
            cache_ttl = None if raw_ttl is None else to_int32(raw_ttl)
            encoded = check_key_name(key)
            if cache_ttl is not None:
                check_cache_ttl(cache_ttl)
        except KVError as error:
            _raise_for("GET", error)
        if value_type == "stream":
            stream = await self._storage.open(encoded)
            if stream is None or not self._live(stream, encoded):
                if stream is not None:
                    await _close(stream.chunks)
                return None
            return stream.chunks, stream.metadata
        entry = await self._storage.get(encoded)
        if entry is None or not self._live(entry, encoded):
            return None  # a bad type on a missing key is not an error, as in workerd
        assert entry.value is not None
        return _convert(entry.value, value_type), entry.metadata

    async def _get_bulk(
        self, keys: Sequence[str], value_type: str | None, raw_ttl: Any, *, with_metadata: bool
    ) -> dict[str, Any]:
        try:
            cache_ttl = None if raw_ttl is None else to_int32(raw_ttl)
            effective_type = check_bulk_type(value_type)
            check_bulk_count(len(keys))
            encoded: dict[str, bytes] = {}
            for key in keys:
                encoded[key] = check_key(key)
                if cache_ttl is not None:
                    check_cache_ttl(cache_ttl)
        except KVError as error:
            _raise_for("GET_BULK", error)
        names = list(encoded)  # duplicates collapse into one entry, as in a JS Map
        entries = await self._storage.get_many([encoded[name] for name in names])
        live = {
            name: entry
            for name, entry in zip(names, entries, strict=True)
            if entry is not None and self._live(entry, encoded[name])
        }
        results: dict[str, Any] = dict.fromkeys(names)
        deferred = [name for name, entry in live.items() if entry.value is None]
        for name, entry in live.items():
            if entry.value is not None:
                results[name] = self._bulk_value(entry, effective_type, with_metadata)
        total = sum(entry.size for entry in live.values())
        if total > MAX_BULK_GET_BYTES:
            limit_mb = MAX_BULK_GET_BYTES / 1024 / 1024
            _raise_for("GET_BULK", KVError(413, f"Total size of request exceeds the limit of {limit_mb:g}MB"))
        for name in deferred:  # large values are loaded only once the total is known to fit
            entry = await self._storage.get(encoded[name])
            if entry is not None and self._live(entry, encoded[name]):
                results[name] = self._bulk_value(entry, effective_type, with_metadata)
        return results

    @staticmethod
    def _bulk_value(entry: Entry, value_type: str, with_metadata: bool) -> Any:
        assert entry.value is not None
        text = _decode_text(entry.value)
        if value_type == "json":
            try:
                value = json.loads(text)
            except ValueError:
                _raise_for("GET_BULK", KVError(400, _BAD_BULK_JSON))
        else:
            value = text
        if value is None or not with_metadata:
            return value  # JSON null reads as a missing key, as in Miniflare
        return ValueWithMetadata(value, _parse_metadata(entry.metadata))

    # --- put / delete ----------------------------------------------------------------------------

    async def put(
        self,
        key: str,
        value: Any,
        options: Mapping[str, Any] | None = None,
        /,
        *,
        expiration: Any = None,
        expiration_ttl: Any = None,
        metadata: Any = None,
        expirationTtl: Any = None,  # Python Workers spelling
    ) -> None:
        """Store ``value`` (str, bytes-like, or an async iterable of bytes) under ``key``.

        ``expiration`` is absolute (seconds since the epoch), ``expiration_ttl`` relative; if both
        are given the TTL wins. ``metadata`` is any JSON-serialisable value up to 1024 bytes.
        """
        given = _as_options(options, "put")
        if expiration is None:
            expiration = _option(given, "expiration")
        if expiration_ttl is None:
            expiration_ttl = expirationTtl
        if expiration_ttl is None:
            expiration_ttl = _option(given, "expirationTtl", "expiration_ttl")
        if metadata is None:
            metadata = given.get("metadata")
        try:
            absolute = None if expiration is None else to_int32(expiration)
            ttl = None if expiration_ttl is None else to_int32(expiration_ttl)
            encoded = check_key_name(key)
            metadata_json = encode_metadata(metadata)
            body = _encode_value(value)
            expires = resolve_expiration(
                math.floor(self._clock.now()),
                None if absolute is None else str(absolute),
                None if ttl is None else str(ttl),
            )
            check_metadata_size(metadata_json)
            if isinstance(body, AsyncIterable):
                body = await _read_stream(body)
            else:
                check_value_size(len(body))
        except KVError as error:
            _raise_for("PUT", error)
        await self._storage.put(encoded, body, expires, metadata_json)

    async def delete(self, key: str) -> None:
        """Delete ``key``. Deleting a missing key succeeds."""
        try:
            encoded = check_key_name(key)
        except KVError as error:
            _raise_for("DELETE", error)
        await self._storage.delete(encoded)

    # --- list ------------------------------------------------------------------------------------

    async def list(
        self,
        options: Mapping[str, Any] | None = None,
        /,
        *,
        prefix: str | None = None,
        limit: Any = None,
        cursor: str | None = None,
    ) -> ListResult:
        """A page of keys in UTF-8 byte order: ``.keys``, ``.list_complete`` and, if not complete, ``.cursor``.

        ``limit`` defaults to (and may not exceed) 1000; expired keys are never listed.
        """
        given = _as_options(options, "list")
        prefix = prefix if prefix is not None else given.get("prefix")
        limit = limit if limit is not None else given.get("limit")
        cursor = cursor if cursor is not None else given.get("cursor")
        try:
            count = None if limit is None else to_int32(limit)
            if count is not None and count <= 0:
                count = None  # workerd only sends a positive limit; anything else means the default
            if count is not None:
                check_list_limit(count)
            prefix_bytes = b"" if prefix is None else check_prefix(str(prefix))
            after = decode_cursor(str(cursor)) if cursor else None
        except KVError as error:
            _raise_for("GET", error)
        page_size = count or MAX_LIST_LIMIT
        rows, more = await self._storage.list(prefix_bytes, after, page_size, self._clock.now())
        keys = [
            ListKey(
                row.key.decode("utf-8", "replace"),
                row.expiration,
                *(() if row.metadata is None else (json.loads(row.metadata),)),
            )
            for row in rows
        ]
        next_cursor = encode_cursor(rows[-1].key) if more and rows else None
        return ListResult(keys, list_complete=next_cursor is None, cursor=next_cursor)


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
