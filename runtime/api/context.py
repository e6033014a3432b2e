"""What every REST handler works with: the store, the clock, the account, and a KV service per namespace."""

from __future__ import annotations

from bindings import Clock, Store
from bindings.service import KVService

from .auth import Authenticator

__all__ = ["ApiContext"]


class ApiContext:
    """Shared state of one API app. The store's lifecycle belongs to the host: nothing here closes it.

    Args:
        store: the namespace catalog and storage (shared with the handlers' bindings).
        clock: the time expiry is judged by.
        account_id: the one account this API serves.
        authenticator: checks each request's credentials.
    """

    __slots__ = ("store", "clock", "account_id", "authenticator", "_services")

    def __init__(self, store: Store, clock: Clock, account_id: str, authenticator: Authenticator) -> None:
        self.store = store
        self.clock = clock
        self.account_id = account_id
        self.authenticator = authenticator
        self._services: dict[str, KVService] = {}

    async def service(self, namespace_id: str) -> KVService:
        """The KV service of a namespace; raises ``NamespaceNotFoundError`` if it does not exist (now).

        The namespace is looked up in the catalog on every call (an indexed read), so a namespace
        deleted by anyone, the CLI included, is gone at once; the service object itself is reused
        while the store hands out the same storage for it.
        """
        storage = await self.store.namespace(namespace_id)
        service = self._services.get(namespace_id)
        if service is None or service.storage is not storage:
            service = self._services[namespace_id] = KVService(storage, self.clock)
        return service

    def forget(self, namespace_id: str) -> None:
        """Drop the cached service of a deleted namespace."""
        self._services.pop(namespace_id, None)
