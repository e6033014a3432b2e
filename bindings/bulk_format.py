"""wrangler's bulk JSON formats, item by item: what ``PUT /bulk`` and ``workerhost kv bulk`` accept.

* a write is an array of ``{key, value, expiration?, expiration_ttl?, metadata?, base64?}``;
* a delete (and wrangler's ``kv bulk get`` file) is an array of key names, each a string or an
  object ``{"name": key}``.

This module checks each item's *shape* and turns it into the wire form the KV service validates
(``BulkWrite``: numbers as the text a query string carries, metadata as JSON text); the KV limits
themselves are the service's. The REST API and the CLI share it, so a file wrangler accepts is
read the same way by both. A bad item raises ``BulkItemError`` with its index and the problem.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import KVError
from .javascript import js_string
from .limits import check_int32_text
from .service import BulkWrite

__all__ = ["BulkItemError", "key_name", "pair"]


class BulkItemError(ValueError):
    """An item of a bulk file or request is malformed: ``index`` and ``problem`` say which and how."""

    def __init__(self, index: int, problem: str) -> None:
        self.index = index
        self.problem = problem
        super().__init__(f"item {index}: {problem}")


def _wire_number(index: int, item: dict[str, Any], name: str) -> str | None:
    """A numeric option as the service expects it: the text a query string would carry (JS ``String(n)``)."""
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BulkItemError(index, f'"{name}" must be a number')
    text = js_string(value)
    try:
        check_int32_text(text)
    except KVError as exc:
        raise BulkItemError(index, f'"{name}": {exc.message}') from None
    return text


def _value_bytes(index: int, value: str, encoded: bool) -> bytes:
    if not encoded:
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            raise BulkItemError(index, '"value" is not valid Unicode (it has a lone surrogate)') from None
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise BulkItemError(index, '"value" is not valid base64 (and "base64" is true)') from None


def pair(index: int, item: Any) -> BulkWrite:
    """One item of a bulk write in wire form; raises ``BulkItemError`` if its shape is wrong."""
    if not isinstance(item, dict):
        raise BulkItemError(index, 'each item must be an object with "key" and "value"')
    key, value, encoded = item.get("key"), item.get("value"), item.get("base64", False)
    if not isinstance(key, str):
        raise BulkItemError(index, '"key" must be a string')
    if not isinstance(value, str):
        raise BulkItemError(index, '"value" must be a string')
    if not isinstance(encoded, bool):
        raise BulkItemError(index, '"base64" must be a boolean')
    metadata = item.get("metadata")
    return BulkWrite(
        key,
        _value_bytes(index, value, encoded),
        _wire_number(index, item, "expiration"),
        _wire_number(index, item, "expiration_ttl"),
        None if metadata is None else json.dumps(metadata, ensure_ascii=False, separators=(",", ":")),
    )


def key_name(index: int, item: Any) -> str:
    """One item of a bulk delete or get: a key string, or an object with a ``name`` string."""
    name = item.get("name") if isinstance(item, dict) else item
    if not isinstance(name, str):
        raise BulkItemError(index, 'each item must be a key name (a string, or an object with a "name" string)')
    return name
