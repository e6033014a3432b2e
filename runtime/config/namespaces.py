"""The namespaces kv.yaml declares: find them in the store, and create the ones that are missing.

``workerhost dev`` creates every declared namespace at start; ``workerhost kv`` creates one on its
first write. Both go through here, so a declared namespace means the same thing to both: its id
when kv.yaml gives one (it is authoritative, even if the namespace was renamed since), else its
title. Imports neither Starlette nor handler code, so the CLI stays quick to start.
"""

from __future__ import annotations

from bindings.errors import NamespaceTitleError, StorageError
from bindings.storage.base import NamespaceInfo, Store

from ..errors import ConfigError
from .model import KVNamespaceConfig, RuntimeConfig
from .storage import describe_storage

__all__ = ["ensure_namespace", "ensure_namespaces", "find_declared"]


async def find_declared(store: Store, declared: KVNamespaceConfig) -> NamespaceInfo | None:
    """The namespace a declaration refers to, or None if it has not been created yet."""
    if declared.id is not None:
        return await store.get_namespace(declared.id)
    return await store.find_namespace(declared.title)


async def ensure_namespace(store: Store, declared: KVNamespaceConfig) -> NamespaceInfo:
    """The namespace a declaration refers to, created if missing; raises ``StorageError`` if it cannot be."""
    info = await find_declared(store, declared)
    if info is not None:
        return info
    try:
        return await store.create_namespace(declared.title, declared.id)
    except StorageError:
        # Another process (a second host starting at the same moment, the CLI) may have created it
        # meanwhile: its id, or its title, is then taken by the very namespace declared.
        info = await find_declared(store, declared)
        if info is not None:
            return info
        raise


async def ensure_namespaces(store: Store, config: RuntimeConfig) -> dict[str, NamespaceInfo]:
    """Create the declared namespaces that are missing; map each title (and id) declared to its namespace."""
    found: dict[str, NamespaceInfo] = {}
    for index, declared in enumerate(config.kv_namespaces):
        try:
            info = await ensure_namespace(store, declared)
        except NamespaceTitleError as exc:
            where = describe_storage(config.storage, config.persist_to)
            raise ConfigError(
                f"{config.source}:{declared.line}: kv_namespaces[{index}] cannot be created with id {declared.id}: "
                f"{exc} (in {where}); expected a title that no other namespace has, or no id"
            ) from None
        except StorageError as exc:
            raise ConfigError(f"{config.source}:{declared.line}: kv_namespaces[{index}]: {exc}") from None
        found[declared.title] = info
        if declared.id:
            found[declared.id] = info
    return found
