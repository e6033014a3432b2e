"""The Workers KV binding a handler receives as ``env.MY_KV``.

Behaviour follows Cloudflare (https://developers.cloudflare.com/kv/api/, and the README's "The KV
binding" for where workerhost chooses): the same methods, argument styles, result shapes,
validation order and error texts. As in workerd, each call has two halves:

1. this binding coerces numeric options to int32 and checks key names (``KVTypeError``, 414), then
2. hands the request in wire form to the KV service (``bindings.service``), which checks the rest
   and reads or writes.

Both snake_case keywords and the camelCase spellings of Cloudflare's Python Workers are accepted,
and options may come as keywords or as one dict, as scripts written for Cloudflare pass them.
"""

from __future__ import annotations

import json
from collections import UserString
from collections.abc import AsyncIterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeGuard

from .clock import Clock, SystemClock
from .errors import KVError, NamespaceNotFoundError
from .javascript import js_string, parse_json
from .limits import check_key_name, encode_metadata, to_int32, unsupported_value
from .results import GetWithMetadataResult, ListResult
from .service import KVService
from .storage.base import NamespaceStorage

if TYPE_CHECKING:
    from .fidelity import NamespaceFidelity

__all__ = ["KVNamespace", "ValueType"]

ValueType = Literal["text", "json", "bytes", "arrayBuffer", "stream"]
_UNKNOWN_TYPE = 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'


def _raise_for(op: str, error: KVError | NamespaceNotFoundError) -> NoReturn:
    # A namespace deleted under its binding (from the REST API, the CLI, another host) is the KV
    # service's 404, not a storage failure: ``KV PUT failed: 404 namespace not found``.
    if isinstance(error, NamespaceNotFoundError):
        error = error.as_kv_error()
    raise error.for_op(op) from None


def _option(options: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        value = options.get(name)
        if value is not None:
            return value
    return None


def _as_options(options: Any, method: str) -> Mapping[str, Any]:
    # Python Workers pass JS `undefined` as None: no options at all.
    if options is None:
        return {}
    if isinstance(options, Mapping):
        return options
    raise TypeError(f"{method}() options must be a dict or None, got {type(options).__name__}")


def _is_key_list(key: object) -> TypeGuard[Sequence[Any]]:
    # Any sequence of keys is a bulk get, as the signature says, not only a list or tuple. Strings
    # are sequences too, and bytes-like keys are refused as one key ("Key name must be a string").
    if isinstance(key, list | tuple):
        return True
    return isinstance(key, Sequence) and not isinstance(key, str | UserString | bytes | bytearray | memoryview)


def _int_option(value: Any) -> int | None:
    return None if value is None else to_int32(value)


def _convert(value: bytes, value_type: str) -> Any:
    if value_type == "text":
        return value.decode("utf-8", "replace")
    if value_type == "json":
        return parse_json(value.decode("utf-8", "replace"))
    if value_type == "bytes":
        return bytes(value)
    if value_type == "arrayBuffer":
        return memoryview(value)  # what Cloudflare's Python Workers give for an ArrayBuffer
    raise TypeError(_UNKNOWN_TYPE)


def _encode_value(value: Any) -> bytes | AsyncIterable[Any]:
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
        return js_string(value).encode()  # workerd coerces primitives to strings
    if isinstance(value, AsyncIterable):
        return value
    try:
        return bytes(memoryview(value))  # bytearray, memoryview, array.array...: copied, as workerd does
    except TypeError:
        raise unsupported_value() from None


class KVNamespace:
    """A Workers KV namespace binding.

    Args:
        storage: the namespace's storage engine.
        clock: where the time comes from; expiry is judged against it.
        name: the binding's variable name, for ``repr``.
        fidelity: the namespace's production-fidelity state (README, "Production fidelity"), when a
            mode is on; the binding then reads at its simulated edge location. Its clock is used.
    """

    __slots__ = ("_service", "_plain", "name")

    def __init__(
        self,
        storage: NamespaceStorage,
        clock: Clock | None = None,
        *,
        name: str = "KV",
        fidelity: NamespaceFidelity | None = None,
    ) -> None:
        if fidelity is None:
            self._service = KVService(storage, clock or SystemClock())
        else:
            self._service = fidelity.service(storage, edge=True)
        # The plain service's storage, which get(key) reads itself (one coroutine fewer per call);
        # None when a fidelity layer reads through its own service.
        self._plain = self._service.storage if type(self._service) is KVService else None
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
    def service(self) -> KVService:
        """The KV service under this binding, for tools (REST API, CLI, test fixtures)."""
        return self._service

    # --- get ---------------------------------------------------------------------------------------

    async def get(
        self,
        key: str | Sequence[str],
        options: str | Mapping[str, Any] | None = None,
        /,
        *,
        type: str | None = None,  # the Workers option name, though it shadows a builtin
        cache_ttl: Any = None,
        cacheTtl: Any = None,  # the Python Workers spelling
    ) -> Any:
        """Read a value, or a dict of values for a list of keys (1 to 100, text or json only).

        ``type`` is ``"text"`` (default), ``"json"``, ``"bytes"``, ``"arrayBuffer"`` (a memoryview)
        or ``"stream"`` (an async iterator of bytes). It may also be given positionally, or in an
        options dict with ``cacheTtl``. Returns None for a missing or expired key.
        """
        if options is None and type is None and cache_ttl is None and cacheTtl is None and key.__class__ is str:
            # get(key) as text, the call made most (often on every request): what KVService.get does,
            # inline, when the service is the plain one.
            storage = self._plain
            try:
                if storage is None:
                    entry = await self._service.get(check_key_name(key))
                else:
                    encoded = check_key_name(key)
                    entry = await storage.get(encoded)
                    if entry is not None and entry.expiration is not None and not self._service.live(entry, encoded):
                        return None
            except (KVError, NamespaceNotFoundError) as error:
                _raise_for("GET", error)
            return None if entry is None else entry.value.decode("utf-8", "replace")
        value_type, raw_ttl = _get_options(options, type, cache_ttl if cache_ttl is not None else cacheTtl)
        if _is_key_list(key):
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
        value_type, raw_ttl = _get_options(options, type, cache_ttl if cache_ttl is not None else cacheTtl)
        if _is_key_list(key):
            return await self._get_bulk(key, value_type, raw_ttl, with_metadata=True)
        found = await self._get_one(key, value_type, raw_ttl)
        if found is None:
            return GetWithMetadataResult(None, None)
        return GetWithMetadataResult(found[0], None if found[1] is None else json.loads(found[1]))

    getWithMetadata = get_with_metadata  # the Python Workers spelling

    async def _get_one(self, key: object, value_type: str | None, raw_ttl: Any) -> tuple[Any, str | None] | None:
        # ``key`` is anything but a list of keys: check_key_name refuses whatever is not a string.
        try:
            cache_ttl = _int_option(raw_ttl)
            encoded = check_key_name(key)
            if value_type == "stream":
                stream = await self._service.open(encoded, cache_ttl)
                return None if stream is None else (stream.chunks, stream.metadata)
            entry = await self._service.get(encoded, cache_ttl)
        except (KVError, NamespaceNotFoundError) as error:
            _raise_for("GET", error)
        if entry is None:
            return None  # a bad type on a missing key is no error, as in workerd
        return _convert(entry.value, value_type or "text"), entry.metadata

    async def _get_bulk(self, keys: Sequence[str], value_type: str | None, raw_ttl: Any, *, with_metadata: bool) -> Any:
        try:
            cache_ttl = _int_option(raw_ttl)
            return await self._service.get_bulk(keys, value_type, cache_ttl=cache_ttl, with_metadata=with_metadata)
        except (KVError, NamespaceNotFoundError) as error:
            _raise_for("GET_BULK", error)

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
        expirationTtl: Any = None,  # the Python Workers spelling
    ) -> None:
        """Store ``value`` (str, bytes-like, or an async iterable of bytes) under ``key``.

        ``expiration`` is absolute (seconds since the epoch), ``expiration_ttl`` relative; if both
        are given the TTL wins. ``metadata`` is any JSON-serialisable value up to 1024 bytes.
        """
        given = _as_options(options, "put")
        if expiration is None:
            expiration = given.get("expiration")
        if expiration_ttl is None:
            expiration_ttl = expirationTtl
        if expiration_ttl is None:
            expiration_ttl = _option(given, "expirationTtl", "expiration_ttl")
        if metadata is None:
            metadata = given.get("metadata")
        try:
            absolute, ttl = _int_option(expiration), _int_option(expiration_ttl)
            encoded = check_key_name(key)
            metadata_json = encode_metadata(metadata)
            body = _encode_value(value)
            await self._service.put(
                encoded,
                body,
                expiration=None if absolute is None else str(absolute),
                expiration_ttl=None if ttl is None else str(ttl),
                metadata=metadata_json,
            )
        except (KVError, NamespaceNotFoundError) as error:
            _raise_for("PUT", error)

    async def delete(self, key: str) -> None:
        """Delete ``key``. Deleting a missing key succeeds."""
        try:
            await self._service.delete(check_key_name(key))
        except (KVError, NamespaceNotFoundError) as error:
            _raise_for("DELETE", error)

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
            count = _int_option(limit)
            # workerd sends the limit only when positive; zero or less means the default.
            return await self._service.list(
                None if prefix is None else str(prefix),
                count if count is not None and count > 0 else None,
                None if cursor is None else str(cursor),
            )
        except (KVError, NamespaceNotFoundError) as error:
            _raise_for("GET", error)


def _get_options(options: Any, value_type: str | None, cache_ttl: Any) -> tuple[str | None, Any]:
    if isinstance(options, str):
        return value_type or options, cache_ttl
    given = _as_options(options, "get")
    if cache_ttl is None:
        cache_ttl = _option(given, "cacheTtl", "cache_ttl")
    return value_type or given.get("type"), cache_ttl
