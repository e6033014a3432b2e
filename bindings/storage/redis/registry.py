"""The namespace catalog, kept in Redis so every host sharing the server sees the same namespaces.

Two hashes under the catalog's hash tag: id -> "<generation> <title>", and title -> id. Creating,
renaming and removing a namespace are scripts (``scripts.py``), so a title is unique across every
host at once: two hosts creating the same title cannot both succeed. The rules themselves (ids,
titles, the namespace limit, Cloudflare's texts) are ``bindings.catalog``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import catalog
from ...errors import NamespaceNotFoundError
from .connection import Connector
from .keys import CatalogKeys

__all__ = ["Record", "Registry"]

_FULL = _MISSING = -1  # the script answers -1 for a full account (insert) or a missing id (rename)
_TAKEN_ID, _TAKEN_TITLE = -2, -3


@dataclass(frozen=True, slots=True)
class Record:
    """A namespace in the catalog: its id, title and live generation."""

    id: str
    title: str
    generation: int


def _record(namespace_id: str, raw: bytes) -> Record:
    generation, _, title = raw.partition(b" ")
    return Record(namespace_id, title.decode("utf-8", "surrogatepass"), int(generation))


def _encode(title: str) -> bytes:
    return title.encode("utf-8", "surrogatepass")


def _optional(text: str | None) -> bytes:
    # '' for none; '=' before a value, so an empty text is still a value.
    return b"" if text is None else b"=" + _encode(text)


class Registry:
    """The catalog of one store prefix.

    Args:
        connector: the store's connections.
        prefix: the store's key prefix.
    """

    def __init__(self, connector: Connector, prefix: str) -> None:
        self._connector = connector
        self.keys = CatalogKeys.of(prefix)

    async def record(self, namespace_id: str) -> Record | None:
        """The catalog's record of a well-formed id, or None."""
        raw = await self._connector.command("HGET", self.keys.namespaces, namespace_id)
        return None if raw is None else _record(namespace_id, raw)

    async def find(self, title: str) -> Record | None:
        """The record of the namespace with this title, or None."""
        namespace_id = await self._connector.command("HGET", self.keys.titles, _encode(title))
        if namespace_id is None:
            return None
        record = await self.record(namespace_id.decode("ascii"))
        return record if record is not None and record.title == title else None  # renamed meanwhile

    async def all(self) -> list[Record]:
        """Every record, ordered by title (UTF-8 byte order, as SQLite orders them), then id."""
        raw = await self._connector.command("HGETALL", self.keys.namespaces)
        records = [_record(key.decode("ascii"), value) for key, value in raw.items()]
        return sorted(records, key=lambda record: (_encode(record.title), record.id))

    async def insert(self, namespace_id: str, generation: int, title: str) -> None:
        """Add a namespace; raises as ``bindings.catalog`` says when the account is full or the id or title is taken."""
        args = [namespace_id, generation, _encode(title), catalog.MAX_NAMESPACES]
        outcome = await self._connector.script("insert", [self.keys.namespaces, self.keys.titles], args)
        if outcome == _FULL:
            catalog.check_namespace_count(catalog.MAX_NAMESPACES)
        if outcome == _TAKEN_ID:
            raise catalog.duplicate_id(namespace_id)
        if outcome == _TAKEN_TITLE:
            raise catalog.duplicate_title()

    async def rename(self, namespace_id: str, title: str) -> None:
        """Give a namespace a new title; raises ``NamespaceNotFoundError`` or the duplicate-title error."""
        keys = [self.keys.namespaces, self.keys.titles]
        outcome = await self._connector.script("rename", keys, [namespace_id, _encode(title)])
        if outcome == _MISSING:
            raise NamespaceNotFoundError(namespace_id)
        if outcome == _TAKEN_TITLE:
            raise catalog.duplicate_title()

    async def remove(self, namespace_id: str, generation: int) -> bool:
        """Remove the namespace if ``generation`` is its catalog's, listing that generation as garbage."""
        keys = [self.keys.namespaces, self.keys.titles, self.keys.garbage]
        return bool(await self._connector.script("remove", keys, [namespace_id, generation]))

    async def garbage(self) -> list[tuple[str, int]]:
        """The deleted generations whose keys are still to be collected, as (id, generation)."""
        members = await self._connector.command("SMEMBERS", self.keys.garbage)
        found = []
        for member in members:
            namespace_id, _, generation = member.decode("ascii").partition(" ")
            found.append((namespace_id, int(generation)))
        return sorted(found)

    async def setting(self, name: str) -> str | None:
        """The store setting called ``name``, or None."""
        raw = await self._connector.command("HGET", self.keys.settings, _encode(name))
        return None if raw is None else raw.decode("utf-8", "surrogatepass")

    async def swap_setting(self, name: str, value: str | None, expected: str | None) -> bool:
        """Write (None: delete) the setting if it holds ``expected`` now, atomically; say whether it did."""
        args = [_encode(name), _optional(expected), _optional(value)]
        return bool(await self._connector.script("setting", [self.keys.settings], args))

    async def collected(self, namespace_id: str, generation: int) -> None:
        """Forget a deleted generation whose keys are all gone."""
        await self._connector.command("SREM", self.keys.garbage, f"{namespace_id} {generation}")
