"""``RedisStore``: the namespace catalog and every namespace's keys on a Redis server or Cluster.

Several hosts, CLIs and CI shards given the same location share one KV state: each write is a
script applied atomically on the server, and each read asks the server, so every process sees every
acknowledged write at once. Nothing is cached in the process.
"""

from __future__ import annotations

import logging

from redis import exceptions as redis_errors

from ... import catalog
from ...errors import NamespaceNotFoundError
from ..base import NamespaceInfo
from ..durability import Durability
from .connection import Connector, translate_error
from .lifecycle import Lifecycle
from .location import RedisSettings, parse_redis_location
from .namespace import RedisNamespace
from .persistence import read_durability
from .registry import Record, Registry

__all__ = ["RedisStore"]

logger = logging.getLogger("workerhost.kv")

_PURGE_BATCH = 10_000
_COLLECT_INLINE = 10  # batches of a deleted namespace's keys collected before delete_namespace returns
_COLLECT_PER_SWEEP = 100


class RedisStore:
    """Namespaces kept on the Redis server (or Cluster) a location names.

    Args:
        location: a ``redis://``, ``rediss://`` or ``unix://`` URL (``location.py`` lists its options).

    Constructing a store does no I/O: it connects on first use. Any number of stores, in this process
    or on other machines, may use the same location (and prefix) at once.
    """

    def __init__(self, location: str | RedisSettings) -> None:
        self.settings = location if isinstance(location, RedisSettings) else parse_redis_location(location)
        self._connector = Connector(self.settings)
        self._registry = Registry(self._connector, self.settings.prefix)
        self._lifecycle = Lifecycle(self._connector, self._registry, self.settings.prefix)
        self._namespaces: dict[str, RedisNamespace] = {}
        self._durability: Durability | None = None

    def __repr__(self) -> str:
        return f"RedisStore({self.settings.public()!r})"

    @property
    def location(self) -> str:
        """The location, with any password hidden."""
        return self.settings.public()

    # --- the catalog -----------------------------------------------------------------------------

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        if not catalog.is_namespace_id(namespace_id):
            return None
        record = await self._registry.record(namespace_id)
        return None if record is None else NamespaceInfo(record.id, record.title)

    async def find_namespace(self, title: str) -> NamespaceInfo | None:
        record = await self._registry.find(title)
        return None if record is None else NamespaceInfo(record.id, record.title)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        return [NamespaceInfo(record.id, record.title) for record in await self._registry.all()]

    async def namespace(self, namespace_id: str) -> RedisNamespace:
        if not catalog.is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        record = await self._registry.record(namespace_id)
        if record is None:
            raise NamespaceNotFoundError(namespace_id)
        return self._handle(record)

    def _handle(self, record: Record) -> RedisNamespace:
        handle = self._namespaces.get(record.id)
        if handle is None:
            handle = self._namespaces[record.id] = RedisNamespace(
                self._connector, self._lifecycle, record.id, record.generation, self.settings.ttl_margin
            )
        elif handle.generation < record.generation:
            handle.generation = record.generation  # deleted and created again since
        return handle

    async def create_namespace(self, title: str, namespace_id: str | None = None) -> NamespaceInfo:
        catalog.check_title(title)
        namespace_id = catalog.new_namespace_id() if namespace_id is None else catalog.check_namespace_id(namespace_id)
        generation = await self._lifecycle.allocate(namespace_id)
        await self._registry.insert(namespace_id, generation, title)
        # Had this host stopped here, the first use would begin the generation (Lifecycle.resolve).
        await self._lifecycle.begin(namespace_id, generation)
        return NamespaceInfo(namespace_id, title)

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        catalog.check_title(title)
        if not catalog.is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        await self._registry.rename(namespace_id, title)
        return NamespaceInfo(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        if not catalog.is_namespace_id(namespace_id):
            raise NamespaceNotFoundError(namespace_id)
        record = await self._registry.record(namespace_id)
        if record is None:
            raise NamespaceNotFoundError(namespace_id)
        # The moment of deletion: from here on no read sees the generation's keys and no write lands.
        await self._lifecycle.end(namespace_id, record.generation)
        if not await self._registry.remove(namespace_id, record.generation):
            raise NamespaceNotFoundError(namespace_id)  # another caller deleted it first
        await self._lifecycle.collect(namespace_id, record.generation, _COLLECT_INLINE)

    # --- settings --------------------------------------------------------------------------------

    async def read_setting(self, name: str) -> str | None:
        return await self._registry.setting(name)

    async def write_setting(self, name: str, value: str | None, *, expected: str | None) -> bool:
        return await self._registry.swap_setting(name, value, expected)

    # --- upkeep ----------------------------------------------------------------------------------

    async def purge_expired(self, now: float) -> int:
        """Delete expired entries everywhere; also collect deleted namespaces' keys and finish any
        creation or deletion a host left halfway (``lifecycle.py``)."""
        budget = _COLLECT_PER_SWEEP
        for namespace_id, generation in await self._registry.garbage():
            if budget <= 0:
                break
            budget -= _COLLECT_PER_SWEEP // 10
            await self._lifecycle.collect(namespace_id, generation, _COLLECT_PER_SWEEP // 10)
        total = 0
        for record in await self._registry.all():
            namespace = self._handle(record)
            try:
                while (deleted := await namespace.purge_expired(now, _PURGE_BATCH)) == _PURGE_BATCH:
                    total += deleted
            except NamespaceNotFoundError:
                continue  # deleted meanwhile
            total += deleted
        return total

    async def durability(self) -> Durability:
        """Whether the server keeps every acknowledged write through a crash (``persistence.py``)."""
        if self._durability is None:
            self._durability = await read_durability(self._connector)
        return self._durability

    async def destroy(self) -> None:
        """Delete every key under this store's prefix, catalog and namespaces: for a test's store of its own.

        Keys of other prefixes are left alone, even prefixes that start with this one.
        """
        client, _ = await self._connector.client()
        prefix = self.settings.prefix
        patterns = (f"{{{prefix}}}:*", f"{{{prefix}:{'[0-9a-f]' * 32}}}:*")
        try:
            for pattern in patterns:
                batch: list[bytes] = []
                async for key in client.scan_iter(match=pattern, count=1000):
                    batch.append(key)
                    if len(batch) == 1000:
                        await client.unlink(*batch)
                        batch = []
                if batch:
                    await client.unlink(*batch)
        except (redis_errors.RedisError, OSError) as exc:
            raise translate_error(exc, self.settings) from None
        self._namespaces.clear()

    async def close(self) -> None:
        for namespace in self._namespaces.values():
            await namespace.settle()
        self._namespaces.clear()
        await self._connector.close()
