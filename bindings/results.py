"""Result objects returned by the KV binding.

Cloudflare's Python Workers hand scripts JS objects that support both ``r.keys`` and ``r["keys"]``,
``page.get("cursor")`` and ``"cursor" in page``. These classes give the same two faces. They are not
``dict`` subclasses on purpose: ``r.keys`` must be the list of keys, not ``dict.keys``.

A field that is absent in Cloudflare's result (a list's ``cursor`` once complete, a key's unset
``expiration`` or ``metadata``) is absent here too: item access raises ``KeyError``, ``in`` is
False, ``to_dict()`` leaves it out, and attribute access gives None.

Attribute access is the fast path (plain slots and properties); a list page of 1000 keys is built
on every ``list()`` call, so keys keep their metadata as JSON text and parse it only when asked.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

__all__ = ["GetWithMetadataResult", "ListKey", "ListResult", "ValueWithMetadata"]


class _Result:
    """Item access, ``get``, ``in``, equality and ``repr`` over the fields ``_data()`` reports present."""

    __slots__ = ()
    _aliases: ClassVar[dict[str, str]] = {}

    def _data(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, item: str) -> Any:
        return self._data()[self._aliases.get(item, item)]

    def get(self, item: str, default: Any = None) -> Any:
        return self._data().get(self._aliases.get(item, item), default)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and self._aliases.get(item, item) in self._data()

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data, in Cloudflare's field names."""
        return {name: _plain(value) for name, value in self._data().items()}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Result | dict):
            return self.to_dict() == (other.to_dict() if isinstance(other, _Result) else other)
        return NotImplemented

    # Equal to dicts, so unhashable as dicts are. Setting __hash__ to None is how Python spells that,
    # and mypy's only objection is that None is not a method.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self._data().items())
        return f"{type(self).__name__}({fields})"


def _plain(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class ListKey(_Result):
    """One key of a list page: ``name``, and ``expiration`` / ``metadata`` only when set.

    Args:
        name: the key.
        expiration: seconds since the epoch, or None.
        metadata_json: the stored metadata as JSON text, or None for no metadata.
    """

    __slots__ = ("name", "expiration", "_metadata_json")

    def __init__(self, name: str, expiration: int | None = None, metadata_json: str | None = None) -> None:
        self.name = name
        self.expiration = expiration
        self._metadata_json = metadata_json

    @property
    def metadata(self) -> Any:
        return None if self._metadata_json is None else json.loads(self._metadata_json)

    @property
    def metadata_json(self) -> str | None:
        """The metadata as stored (compact JSON text), for callers that pass it straight on."""
        return self._metadata_json

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.expiration is not None:
            data["expiration"] = self.expiration
        if self._metadata_json is not None:
            data["metadata"] = self.metadata
        return data


class ListResult(_Result):
    """A page of keys. ``cursor`` is present only while ``list_complete`` is False."""

    __slots__ = ("keys", "list_complete", "cursor")
    _aliases = {"cache_status": "cacheStatus"}

    def __init__(self, keys: list[ListKey], list_complete: bool, cursor: str | None = None) -> None:
        self.keys = keys
        self.list_complete = list_complete
        self.cursor = cursor

    @property
    def cache_status(self) -> None:
        return None  # no edge cache locally, as in Miniflare

    cacheStatus = cache_status  # the Workers spelling

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"keys": self.keys, "list_complete": self.list_complete}
        if self.cursor is not None:
            data["cursor"] = self.cursor
        data["cacheStatus"] = None
        return data


class GetWithMetadataResult(_Result):
    """``get_with_metadata`` of one key: ``value``, ``metadata`` and ``cache_status`` (all None if missing)."""

    __slots__ = ("value", "metadata")
    _aliases = {"cache_status": "cacheStatus"}

    def __init__(self, value: Any, metadata: Any) -> None:
        self.value = value
        self.metadata = metadata

    @property
    def cache_status(self) -> None:
        return None

    cacheStatus = cache_status  # the Workers spelling

    def _data(self) -> dict[str, Any]:
        return {"value": self.value, "metadata": self.metadata, "cacheStatus": None}


class ValueWithMetadata(_Result):
    """One entry of a bulk ``get_with_metadata``: ``value`` and ``metadata``.

    ``expiration`` is present only where the REST API reports it; the binding never does.
    """

    __slots__ = ("value", "metadata", "expiration")

    def __init__(self, value: Any, metadata: Any, expiration: int | None = None) -> None:
        self.value = value
        self.metadata = metadata
        self.expiration = expiration

    def _data(self) -> dict[str, Any]:
        data = {"value": self.value, "metadata": self.metadata}
        if self.expiration is not None:
            data["expiration"] = self.expiration
        return data
