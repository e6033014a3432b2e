"""Hosts that live for a test session: scripts loaded once per config, storage made fresh for every test.

Starting a host per test cost ~40 ms, nearly all of it in work that does not change between tests:
reading the config, importing the scripts on their loader thread, creating the store's catalog and a
file per namespace (each synced to disk), and starting the host's threads. ``SessionHost`` does that
once per distinct config (the config file, the ``workerhost`` marker's vars and secrets, the fidelity
modes), and between tests only resets what a test can change:

* storage: every declared namespace emptied, under the id its bindings use (created again if the test
  deleted it, renamed back if it renamed it), and every namespace the test created deleted; a SQLite
  store is made with ``sync=off`` (README "Storage"), since the data dies with the session;
* wait_until work: awaited at the end of the test (cancelled after the grace a stopping host gives);
* the clock, fidelity state (rate-limit windows, cached views), the REST rate limiter, where
  outbound ``fetch`` goes, and whether handler exceptions are raised.

What stays from one test to the next is what stays from one request to the next on Cloudflare: the
handler modules and their module-level state, and an ASGI app's lifespan. A test that must not share
them asks for a host of its own: ``@pytest.mark.workerhost(fresh_modules=True)``.

Each pytest-xdist worker is a process of its own with its own hosts and temporary directories. A
shared Redis store gets a key prefix per host, deleted when the session ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from ..config import RuntimeConfig
    from ..host.app import HostApp
    from .clock import TestClock
    from .harness import Workerhost, _Core

__all__ = ["MAX_HOSTS", "HostPool", "SessionHost", "config_for_tests", "destroy_in_thread"]

MAX_HOSTS = 4  # distinct configs kept started at once; the least recently used is stopped


def config_for_tests(config: RuntimeConfig, persist_to: Path) -> tuple[RuntimeConfig, str | None]:
    """``config`` for tests: data in ``persist_to`` (SQLite, unsynced) or under a fresh Redis key prefix.

    Returns the config and the shared location to destroy afterwards (None for SQLite).
    """
    from ..config.storage import is_sqlite, storage_location

    if is_sqlite(config.storage):
        # The store goes with the data: the test's own directory, with no page cap (a dev-server setting).
        storage = storage_location(persist_to, config.environ, sync=False)
        return dataclasses.replace(config, persist_to=persist_to, storage=storage, reload=False), None
    storage = isolated(config.storage)
    return dataclasses.replace(config, persist_to=persist_to, storage=storage, reload=False), storage


def isolated(location: str) -> str:
    """A location on the same server with a key prefix nobody else uses (README "Testing your handlers")."""
    import uuid

    from bindings.storage.redis.location import parse_redis_location, with_prefix

    prefix = parse_redis_location(location).prefix
    return with_prefix(location, f"{prefix}:test-{uuid.uuid4().hex[:16]}")


async def destroy(location: str) -> None:
    """Delete everything stored under a shared location's prefix."""
    from bindings import open_store

    store = open_store(location)
    try:
        destroy_all = getattr(store, "destroy", None)
        if destroy_all is not None:
            await destroy_all()
    finally:
        await store.close()


class SessionHost:
    """A host started on a background event loop, kept for every test of its config.

    Build it with ``start``; ``test()`` hands one test its harness, fresh.
    """

    def __init__(self, app: HostApp, clock: TestClock, portal: BlockingPortal, core: _Core) -> None:
        self.app = app
        self.clock = clock
        self.portal = portal
        self.core = core
        self._stack = contextlib.ExitStack()

    @classmethod
    def start(cls, config: RuntimeConfig, shared: str | None) -> SessionHost:
        """Start a host for ``config``; raises ``WorkerhostError`` if it does not load."""
        from anyio.from_thread import start_blocking_portal

        from ..host.app import create_app
        from .clock import TestClock
        from .harness import _Core

        clock = TestClock()
        app = create_app(config, clock=clock, debug=True, crons=False, throwaway=True)
        with contextlib.ExitStack() as stack:
            if shared is not None:
                stack.callback(destroy_in_thread, shared)
            portal = stack.enter_context(start_blocking_portal("asyncio"))
            stack.enter_context(portal.wrap_async_context_manager(app.router.lifespan_context(app)))
            core = _Core(app, clock)
            portal.call(core.started)
            host = cls(app, clock, portal, core)
            host._stack = stack.pop_all()
        return host

    @contextlib.contextmanager
    def test(self) -> Iterator[Workerhost]:
        """One test's harness: fresh storage and state, time frozen at its start, a client of its own."""
        from .harness import Workerhost, sync_client

        self.portal.call(self.core.reset)
        self.clock.start()
        try:
            with sync_client(self.app, self.portal, self.core) as client:
                yield Workerhost(self.core, client, self.portal)
        finally:
            try:
                self.portal.call(self.core.finish)
            finally:
                self.clock.stop()

    def close(self) -> None:
        """Stop the host (its wait_until work, its store) and its event loop."""
        self._stack.close()


def destroy_in_thread(location: str) -> None:
    """``destroy`` on a thread of its own: the caller's thread may be running an event loop (an async test's)."""
    import asyncio
    import threading

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(destroy(location))
        except Exception as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, name="workerhost-teardown")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


class HostPool:
    """The session's hosts by config, at most ``MAX_HOSTS`` started at once (least recently used stopped)."""

    def __init__(self, limit: int = MAX_HOSTS) -> None:
        self._hosts: OrderedDict[Hashable, SessionHost] = OrderedDict()
        self._limit = limit

    def get(self, key: Hashable, start: Callable[[], SessionHost]) -> SessionHost:
        """The host for ``key``, started with ``start()`` if there is none; ``start``'s errors propagate."""
        host = self._hosts.get(key)
        if host is not None:
            self._hosts.move_to_end(key)
            return host
        while len(self._hosts) >= self._limit:
            _, oldest = self._hosts.popitem(last=False)
            oldest.close()
        host = start()
        self._hosts[key] = host
        return host

    def close(self) -> None:
        """Stop every host (the session is over)."""
        while self._hosts:
            _, host = self._hosts.popitem(last=False)
            host.close()
