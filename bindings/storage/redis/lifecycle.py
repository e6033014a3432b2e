"""A namespace's lives: creating and deleting one atomically, on any host, without resurrecting keys.

The catalog and a namespace's keys live in different Redis Cluster hash slots, so no one script can
change both. Each life of a namespace id is therefore a *generation* with keys of its own
(``keys.py``), and the id's ``life`` hash, in the namespace's own slot, says which generation is live
and which is the newest deleted one. Every read and write script checks the live generation first
(``scripts.py``), which makes these the atomic moments:

* create: take a new generation number, add the catalog record (the title check happens here),
  then make the generation live (``begin``);
* delete: end the generation (``end``: from this moment no write lands and no read sees its keys),
  then remove the catalog record and list the generation as garbage, then collect its keys.

A host that stops between two steps leaves a state the next caller completes: an operation that finds
its generation not live asks the catalog again (``resolve``), begins a catalog generation that never
began, or finishes the removal of an ended one. A generation once ended never lives again, so a
namespace deleted and created again with the same id starts empty, and a write through a handle of
the old life lands in the new one or fails with ``NamespaceNotFoundError``, never in the deleted one.
"""

from __future__ import annotations

import logging

from ...errors import NamespaceNotFoundError, StorageError
from .connection import Connector
from .keys import NamespaceKeys
from .registry import Registry

__all__ = ["COLLECT_BATCH", "Lifecycle"]

logger = logging.getLogger("workerhost.kv")

COLLECT_BATCH = 1000  # entries of a deleted generation deleted per script run
_BEGUN, _DELETED, _SUPERSEDED = 1, -1, -2
_RETIRE_AFTER = 7 * 86_400  # seconds a deleted id's life record outlives its last generation


class Lifecycle:
    """Creating, deleting and resolving the generations of a store's namespaces.

    Args:
        connector: the store's connections.
        registry: the store's catalog.
        prefix: the store's key prefix.
    """

    def __init__(self, connector: Connector, registry: Registry, prefix: str) -> None:
        self._connector = connector
        self._registry = registry
        self._prefix = prefix

    def keys(self, namespace_id: str) -> NamespaceKeys:
        return NamespaceKeys.of(self._prefix, namespace_id)

    async def allocate(self, namespace_id: str) -> int:
        """A generation number the id never had."""
        return int(await self._connector.script("allocate", [self.keys(namespace_id).life], []))

    async def begin(self, namespace_id: str, generation: int) -> int:
        """Make ``generation`` live unless it ended; 1 if it is live now, -1 if it ended, -2 if a newer one lives."""
        return int(await self._connector.script("begin", [self.keys(namespace_id).life], [generation]))

    async def end(self, namespace_id: str, generation: int) -> None:
        """End ``generation``: no script takes it for live any more."""
        await self._connector.script("end", [self.keys(namespace_id).life], [generation])

    async def resolve(self, namespace_id: str, stale: int) -> int:
        """The generation to use after ``stale`` was found not live; raises ``NamespaceNotFoundError``.

        Completes what a host that stopped halfway left: begins the catalog's generation if its
        creation never got that far, or removes the record of one whose deletion had already ended it.
        """
        record = await self._registry.record(namespace_id)
        if record is None:
            raise NamespaceNotFoundError(namespace_id)
        outcome = await self.begin(namespace_id, record.generation)
        if outcome == _BEGUN:
            return record.generation
        if outcome == _DELETED:
            await self._registry.remove(namespace_id, record.generation)
            raise NamespaceNotFoundError(namespace_id)
        raise StorageError(
            f"namespace {namespace_id}: the catalog names generation {record.generation}, but a newer one lives "
            f"(after {stale}); the keys under its id were changed outside workerhost"
        )

    async def collect(self, namespace_id: str, generation: int, batches: int) -> bool:
        """Delete up to ``batches`` batches of a deleted generation's keys; True once all are gone."""
        keys = self.keys(namespace_id)
        own = keys.generation(generation)
        for _ in range(batches):
            left = await self._connector.script("collect", [own.index, own.expiry], [own.entry_prefix, COLLECT_BATCH])
            if int(left) == 0:
                await self._connector.script("retire", [keys.life], [_RETIRE_AFTER])
                await self._registry.collected(namespace_id, generation)
                return True
        return False
