"""What every REST handler works with: the store, the clock, the account, and a KV service per namespace."""

from __future__ import annotations

from bindings import Clock, Store
from bindings.changes import ChangeFeed, observed
from bindings.fidelity import Fidelity
from bindings.service import KVService

from .auth import Authenticator
from .ratelimit import ApiRateLimiter

__all__ = ["SOURCE", "ApiContext"]

SOURCE = "REST API"  # who the live feed says made a write through the API


class ApiContext:
    """Shared state of one API app. The store's lifecycle belongs to the host: nothing here closes it.

    Args:
        store: the namespace catalog and storage (shared with the handlers' bindings).
        clock: the time expiry is judged by.
        account_id: the one account this API serves.
        authenticator: checks each request's credentials.
        fidelity: the host's production-fidelity state; the API serves namespaces with a mode on in
            its role (README, "Production fidelity").
        rate_limiter: the REST rate limit, when it is on.
        changes: the host's live feed, told of every write made through the API.
    """

    __slots__ = ("store", "clock", "account_id", "authenticator", "fidelity", "rate_limiter", "changes", "_services")

    def __init__(
        self,
        store: Store,
        clock: Clock,
        account_id: str,
        authenticator: Authenticator,
        fidelity: Fidelity | None = None,
        rate_limiter: ApiRateLimiter | None = None,
        changes: ChangeFeed | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.account_id = account_id
        self.authenticator = authenticator
        self.fidelity = fidelity
        self.rate_limiter = rate_limiter or ApiRateLimiter(clock, enabled=False)
        self.changes = changes
        self._services: dict[str, tuple[KVService, object, object]] = {}

    async def service(self, namespace_id: str) -> KVService:
        """The KV service of a namespace; raises ``NamespaceNotFoundError`` if it does not exist (now).

        The namespace is looked up in the catalog on every call (an indexed read), so a namespace
        deleted by anyone, the CLI included, is gone at once; the service object itself is reused
        while the store hands out the same storage for it.
        """
        storage = await self.store.namespace(namespace_id)
        fidelity = self.fidelity
        state = fidelity.current(namespace_id) if fidelity is not None and fidelity.active else None
        cached = self._services.get(namespace_id)
        if cached is not None and cached[1] is storage and cached[2] is state:
            return cached[0]
        written = observed(storage, self.changes, namespace_id, SOURCE)
        service = KVService(written, self.clock) if state is None else state.service(written, edge=False)
        self._services[namespace_id] = (service, storage, state)
        return service

    def forget(self, namespace_id: str) -> None:
        """Drop the cached service (and production-fidelity state) of a deleted namespace."""
        self._services.pop(namespace_id, None)
        if self.fidelity is not None:
            self.fidelity.forget(namespace_id)
