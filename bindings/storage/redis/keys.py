"""The names of the Redis keys a store writes, all under its prefix.

Each namespace's keys share one Redis Cluster hash slot, through the hash tag ``{<prefix>:<id>}``, so
one script can change a namespace's values, index and expiry metadata together on Cluster too; the
catalog's keys share the tag ``{<prefix>}``::

    {P}:namespaces             hash: namespace id -> "<generation> <title>"
    {P}:titles                 hash: title -> namespace id (title uniqueness)
    {P}:garbage                set: "<id> <generation>" of deleted namespaces whose keys are not yet collected
    {P}:settings               hash: the store's settings by name (``Store.read_setting``)
    {P:id}:life                hash: next (the last generation handed out), live (the current one),
                               dead (the newest deleted one)
    {P:id}:<gen>:index         sorted set, every score 0: the keys, in byte order (ZRANGE ... BYLEX)
    {P:id}:<gen>:expiry        sorted set: keys with an expiration, scored by it (for the sweep)
    {P:id}:<gen>:e:<key>       hash: v (value), s (size), x (expiration), m (metadata JSON)

A *generation* is one life of a namespace id: deleting a namespace and creating it again with the
same id starts a new generation with keys of its own, so nothing of the old one can come back.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CatalogKeys", "GenerationKeys", "NamespaceKeys"]


@dataclass(frozen=True, slots=True)
class CatalogKeys:
    """The catalog's keys for a store prefix."""

    namespaces: bytes
    titles: bytes
    garbage: bytes
    settings: bytes

    @classmethod
    def of(cls, prefix: str) -> CatalogKeys:
        tag = f"{{{prefix}}}:".encode()
        return cls(tag + b"namespaces", tag + b"titles", tag + b"garbage", tag + b"settings")


@dataclass(frozen=True, slots=True)
class NamespaceKeys:
    """The keys of one namespace id, across its generations."""

    tag: bytes
    life: bytes

    @classmethod
    def of(cls, prefix: str, namespace_id: str) -> NamespaceKeys:
        tag = f"{{{prefix}:{namespace_id}}}:".encode()
        return cls(tag, tag + b"life")

    def generation(self, generation: int) -> GenerationKeys:
        base = self.tag + str(generation).encode() + b":"
        return GenerationKeys(base + b"index", base + b"expiry", base + b"e:")


@dataclass(frozen=True, slots=True)
class GenerationKeys:
    """The keys of one generation of a namespace: its index, its expiry set, and where its entries live."""

    index: bytes
    expiry: bytes
    entry_prefix: bytes

    def entry(self, key: bytes) -> bytes:
        return self.entry_prefix + key
