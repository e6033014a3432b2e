"""Result objects returned by the KV binding.

Cloudflare's Python Workers hand scripts JS objects that support both ``r.keys`` and ``r["keys"]``,
``page.get("cursor")`` and ``"cursor" in page``. These classes give the same two faces. They are not
``dict`` subclasses on purpose: ``r.keys`` must be the list of keys, not ``dict.keys``.

A field that is absent in Cloudflare's result (a list's ``cursor`` once complete, a key's unset
``expiration`` or ``metadata``) is absent here too: item access raises ``KeyError``, ``in`` is
False, ``to_dict()`` leaves it out, and attribute access gives None.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

__all__ = ["GetWithMetadataResult", "ListKey", "ListResult", "ValueWithMetadata"]

_ABSENT: Any = object()


class _Result:
    """Attribute and item access over a fixed set of fields; ``_items`` maps item names to attributes."""

    __slots__ = ()
    _items: ClassVar[dict[str, str]]

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        return None if value is _ABSENT else value

    def _raw(self, attribute: str) -> Any:
        return object.__getattribute__(self, attribute)

    def __getitem__(self, item: str) -> Any:
        attribute = self._items.get(item) if isinstance(item, str) else None
        if attribute is None or self._raw(attribute) is _ABSENT:
            raise KeyError(item)
        return self._raw(attribute)

    def get(self, item: str, default: Any = None) -> Any:
        try:
            return self[item]
        except KeyError:
            return default

    def __contains__(self, item: object) -> bool:
        attribute = self._items.get(item) if isinstance(item, str) else None
        return attribute is not None and self._raw(attribute) is not _ABSENT

    def _names(self) -> Iterator[str]:
        # Item names, first spelling of each attribute only (``cacheStatus``, not also ``cache_status``).
        seen: set[str] = set()
        for item, attribute in self._items.items():
            if attribute not in seen:
                seen.add(attribute)
                if self._raw(attribute) is not _ABSENT:
                    yield item

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data, in Cloudflare's field names."""
        return {name: _plain(self[name]) for name in self._names()}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Result):
            return self.to_dict() == other.to_dict()
        if isinstance(other, dict):
            return self.to_dict() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={self[name]!r}" for name in self._names())
        return f"{type(self).__name__}({fields})"


def _plain(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class ListKey(_Result):
    """One key of a list page: ``name``, and ``expiration`` / ``metadata`` only when set."""

    __slots__ = ("name", "expiration", "metadata")
    _items = {"name": "name", "expiration": "expiration", "metadata": "metadata"}

    def __init__(self, name: str, expiration: int | None = None, metadata: Any = _ABSENT) -> None:
        self.name = name
        self.expiration = _ABSENT if expiration is None else expiration
        self.metadata = metadata


class ListResult(_Result):
    """A page of keys. ``cursor`` is present only while ``list_complete`` is False."""

    __slots__ = ("keys", "list_complete", "cursor", "cache_status")
    _items = {"keys": "keys", "list_complete": "list_complete", "cursor": "cursor", "cacheStatus": "cache_status"}

    def __init__(self, keys: list[ListKey], list_complete: bool, cursor: str | None = None) -> None:
        self.keys = keys
        self.list_complete = list_complete
        self.cursor = _ABSENT if cursor is None else cursor
        self.cache_status = None  # no edge cache locally, as in Miniflare

    @property
    def listComplete(self) -> bool:  # the spelling some JS-minded callers use
        return bool(self.list_complete)


class GetWithMetadataResult(_Result):
    """``get_with_metadata`` of one key: ``value``, ``metadata`` and ``cache_status`` (all None if missing)."""

    __slots__ = ("value", "metadata", "cache_status")
    _items = {"value": "value", "metadata": "metadata", "cacheStatus": "cache_status", "cache_status": "cache_status"}

    def __init__(self, value: Any, metadata: Any) -> None:
        self.value = value
        self.metadata = metadata
        self.cache_status = None

    @property
    def cacheStatus(self) -> None:  # the Workers spelling
        return None


class ValueWithMetadata(_Result):
    """One entry of a bulk ``get_with_metadata``: ``value`` and ``metadata``.

    ``expiration`` is present only where the REST API reports it; the binding never does.
    """

    __slots__ = ("value", "metadata", "expiration")
    _items = {"value": "value", "metadata": "metadata", "expiration": "expiration"}

    def __init__(self, value: Any, metadata: Any, expiration: int | None = None) -> None:
        self.value = value
        self.metadata = metadata
        self.expiration = _ABSENT if expiration is None else expiration
