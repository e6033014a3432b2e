"""The test harness behind the pytest plugin: a host running in-process, with helpers to drive it.

``AsyncWorkerhost`` runs the app on the test's own event loop (async tests, through anyio);
``Workerhost`` runs it on a private event loop in a background thread (an anyio blocking portal,
as Starlette's TestClient does) and offers the same helpers as plain calls, for sync tests:

    harness.client                      an httpx client (``AsyncClient`` / ``Client``) against the host
    harness.kv("COUNTER")               a KV binding by name, the very object handlers get
    harness.env("counter")              a worker's env (bindings, vars, secrets)
    harness.advance(61)                 move the KV clock (a ``ManualClock``) forward: keys expire
    harness.wait_until()                wait for every ``ctx.wait_until`` task started so far
    harness.scheduled("pyworker")       run a scheduled handler now; its exception is raised
    harness.settle()                    production-fidelity modes: every location sees every write now
    harness.reset()                     empty every namespace mid-test
    harness.raise_handler_exceptions    True: a handler's exception is raised by the client call

A handler's exception (or a return value that is not a Response) still gets its 500 page, and the
client call raises the exception, as Starlette's ``TestClient`` does (``raise_server_exceptions``);
``wait_until()`` raises the exception of wait_until work the same way. Set
``raise_handler_exceptions = False`` to see the 500 instead.

The sync harness runs on a host that the plugin starts once per session and config
(``runtime.testing.sessions``) and makes fresh for each test with ``fresh()``; the async harness runs
on a host of the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from bindings import KVNamespace, ManualClock

from ..host.dispatch import run_scheduled
from ..host.failures import collect
from ..host.scheduler import check_scheduled_time, pick_scheduled, scheduled_cron
from ..host.state import SHUTDOWN_GRACE

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from ..config import RuntimeConfig
    from ..handlers.env import Env
    from ..host.app import HostApp
    from ..host.state import Host
    from ..host.versions import LoadedWorker, Version

__all__ = ["BASE_URL", "AsyncWorkerhost", "SyncKV", "Workerhost", "running", "running_async"]

T = TypeVar("T")
BASE_URL = "http://testserver"
_PAGE = 1000
logger = logging.getLogger("workerhost")


def _names(names: Any) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none"


class _Core:
    """What both harnesses do, as coroutines on the app's event loop."""

    def __init__(self, app: HostApp, clock: ManualClock) -> None:
        self.app = app
        self.host: Host = app.workerhost
        self.clock = clock
        self.raise_handler_exceptions = True
        self._declared: dict[str, str] = {}  # id -> title of every namespace the config declares
        self._failures: list[BaseException] = []  # of wait_until work, until wait_until() raises them

    async def started(self) -> None:
        """Note what the started host's config declares, and collect wait_until work's exceptions."""
        from ..config.namespaces import ensure_namespaces

        found = await ensure_namespaces(self.host.store, self.config)
        self._declared = {info.id: info.title for info in found.values()}
        self.version().failures = self._failures

    @property
    def config(self) -> RuntimeConfig:
        return self.host.config

    def version(self) -> Version:
        if self.host.version is None:
            raise RuntimeError("the host has not started (use the workerhost fixtures, which start it)")
        return self.host.version

    def worker(self, name: str | None = None) -> LoadedWorker:
        workers = self.version().workers
        if name is not None:
            if name not in workers:
                raise LookupError(f'no worker is called "{name}"; workers: {_names(workers)}')
            return workers[name]
        if len(workers) == 1:
            return next(iter(workers.values()))
        raise LookupError(f"say which worker: workers: {_names(workers)}")

    def binding(self, name: str, worker: str | None = None) -> KVNamespace:
        workers = [self.worker(worker)] if worker is not None else list(self.version().workers.values())
        bound = [w for w in workers if name in w.namespaces]
        if not bound:
            known = {b for w in workers for b in w.namespaces}
            raise LookupError(f'no worker binds a KV namespace as "{name}"; bindings: {_names(known)}')
        if len({w.namespaces[name].id for w in bound}) > 1:
            where = ", ".join(f'"{w.name}" to "{w.namespaces[name].title}"' for w in bound)
            raise LookupError(f'workers bind "{name}" to different namespaces ({where}); pass worker=')
        return bound[0].env[name]  # type: ignore[no-any-return]

    async def wait_until(self) -> None:
        await self.host.drain()
        self._raise_failures()

    def _raise_failures(self) -> None:
        failures, self._failures[:] = list(self._failures), []
        if failures and self.raise_handler_exceptions:
            raise failures[0]

    def route_outbound(self, transport: Any) -> None:
        """Send every worker's outbound ``fetch`` through ``transport`` (None: the network)."""
        for worker in self.version().workers.values():
            worker.scope.outbound = transport

    async def finish(self) -> None:
        """The test is over: let its wait_until work end (cancelled after the grace period), drop its failures."""
        try:
            await asyncio.wait_for(self.host.drain(), SHUTDOWN_GRACE)
        except TimeoutError:
            cancelled = self.version().cancel_pending()
            logger.warning("the test ended with %d wait_until task(s) still running; cancelled them", cancelled)
        self._failures.clear()
        self.route_outbound(None)
        self.raise_handler_exceptions = True

    async def scheduled(self, worker: str | None, cron: str | None, scheduled_time: float | None) -> None:
        target = pick_scheduled(self.version(), worker)
        cron = scheduled_cron(target, cron)
        when = self.clock.now() if scheduled_time is None else check_scheduled_time(scheduled_time)
        await run_scheduled(target, cron, when * 1000)
        await self.wait_until()

    async def settle(self) -> None:
        self.host.fidelity.settle()

    async def reset(self) -> None:
        """Storage as the host found it at start: the declared namespaces, with their ids, empty; no other."""
        await self.host.drain()  # work still running could write again after the reset
        self._failures.clear()
        self.host.fidelity.reset()  # rate-limit windows, cached views and lagging lists
        self.host.api_rate_limiter.reset()
        store = self.host.store
        found: dict[str, str] = {}
        for info in await store.list_namespaces():
            if info.id in self._declared:
                found[info.id] = info.title
            else:
                await store.delete_namespace(info.id)  # made during the test, e.g. through the REST API
        renamed = [namespace_id for namespace_id, title in found.items() if title != self._declared[namespace_id]]
        for namespace_id in renamed:  # out of each other's way first: a test may have swapped two titles
            await store.rename_namespace(namespace_id, f"workerhost-reset-{namespace_id}")
        for namespace_id in renamed:
            await store.rename_namespace(namespace_id, self._declared[namespace_id])
        for namespace_id, title in self._declared.items():
            # Back under the same id, so the bindings handlers hold (env.KV) still reach it.
            if namespace_id not in found:
                await store.create_namespace(title, namespace_id)
            storage = await store.namespace(namespace_id)
            while True:  # every row, expired or not
                rows, more = await storage.list(b"", None, _PAGE, -math.inf)
                if rows:
                    await storage.delete_many([key for key, _, _ in rows])
                if not more:
                    break


class _Facade:
    """What the sync and async faces of a running host share: plain attributes, no event loop needed."""

    def __init__(self, core: _Core) -> None:
        self._core = core
        self.app = core.app
        self.host = core.host
        self.clock = core.clock

    @property
    def config(self) -> RuntimeConfig:
        return self._core.config

    @property
    def raise_handler_exceptions(self) -> bool:
        """True (the default): a handler's exception is raised by the client call that caused it."""
        return self._core.raise_handler_exceptions

    @raise_handler_exceptions.setter
    def raise_handler_exceptions(self, value: bool) -> None:
        self._core.raise_handler_exceptions = bool(value)

    def route_outbound(self, transport: Any) -> None:
        """Send handlers' outbound ``fetch`` through an httpx transport (None: the network again)."""
        self._core.route_outbound(transport)

    @property
    def store(self) -> Any:
        return self.host.store

    def env(self, worker: str | None = None) -> Env:
        """A worker's ``env`` (the only worker's if there is one); its KV bindings are the async originals."""
        return self._core.worker(worker).env

    def advance(self, seconds: float) -> float:
        """Move the KV clock forward; returns the new time."""
        return self.clock.advance(seconds)


class AsyncWorkerhost(_Facade):
    """The host on the test's event loop: ``await`` its helpers. Build it with ``running_async``."""

    def __init__(self, core: _Core, client: httpx.AsyncClient) -> None:
        super().__init__(core)
        self.client = client

    def kv(self, binding: str, worker: str | None = None) -> KVNamespace:
        """The KV binding handlers see as ``env.<binding>`` (``worker=`` if two bind the name differently)."""
        return self._core.binding(binding, worker)

    async def wait_until(self) -> None:
        """Wait for every ``ctx.wait_until`` task started so far (and any they start); raise the first failure."""
        await self._core.wait_until()

    async def scheduled(
        self, worker: str | None = None, *, cron: str | None = None, scheduled_time: float | None = None
    ) -> None:
        """Run a worker's scheduled handler now, then its wait_until work; the handler's exception propagates.

        Args:
            worker: the worker; may be left out when only one has a scheduled handler.
            cron: ``controller.cron``; the worker's first cron trigger by default.
            scheduled_time: seconds since the epoch, up to 9999-12-31 (ValueError beyond); the clock's now
                by default.
        """
        await self._core.scheduled(worker, cron, scheduled_time)

    async def settle(self) -> None:
        """Make eventual consistency catch up: handlers' reads and lists see every write from now on."""
        await self._core.settle()

    async def reset(self) -> None:
        """Empty every declared namespace and delete any other, as if the test had just started."""
        await self._core.reset()


class SyncKV:
    """A KV binding with plain (blocking) methods, run on the host's event loop: for sync tests."""

    def __init__(self, binding: KVNamespace, call: Callable[[Callable[[], Awaitable[Any]]], Any]) -> None:
        self.binding = binding
        self._call = call

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.binding, name)
        return self._call(lambda: method(*args, **kwargs))

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get", *args, **kwargs)

    def get_with_metadata(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get_with_metadata", *args, **kwargs)

    getWithMetadata = get_with_metadata

    def put(self, *args: Any, **kwargs: Any) -> None:
        self._run("put", *args, **kwargs)

    def delete(self, key: str) -> None:
        self._run("delete", key)

    def list(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("list", *args, **kwargs)

    def __repr__(self) -> str:
        return f"SyncKV({self.binding!r})"


class Workerhost(_Facade):
    """The host on a background event loop, for sync tests: the same helpers as plain calls."""

    def __init__(self, core: _Core, client: httpx.Client, portal: BlockingPortal) -> None:
        super().__init__(core)
        self._portal = portal
        self.client = client

    def run(self, awaitable: Awaitable[T]) -> T:
        """Await something on the host's event loop, e.g. ``workerhost.run(env.KV.get("k", type="stream"))``."""
        return self._call(lambda: awaitable)

    def _call(self, make: Callable[[], Awaitable[T]]) -> T:
        async def wait() -> T:
            return await make()

        return self._portal.call(wait)

    def kv(self, binding: str, worker: str | None = None) -> SyncKV:
        """The KV binding ``env.<binding>``, with blocking methods (``.binding`` is the async original)."""
        return SyncKV(self._core.binding(binding, worker), self._call)

    def wait_until(self) -> None:
        """Wait for every ``ctx.wait_until`` task started so far (and any they start); raise the first failure."""
        self._call(self._core.wait_until)

    def scheduled(
        self, worker: str | None = None, *, cron: str | None = None, scheduled_time: float | None = None
    ) -> None:
        """Run a worker's scheduled handler now (see ``AsyncWorkerhost.scheduled``)."""
        self._call(lambda: self._core.scheduled(worker, cron, scheduled_time))

    def settle(self) -> None:
        """Make eventual consistency catch up (see ``AsyncWorkerhost.settle``)."""
        self._call(self._core.settle)

    def reset(self) -> None:
        """Empty every declared namespace and delete any other, as if the test had just started."""
        self._call(self._core.reset)


class _PortalTransport(httpx.BaseTransport):
    """Sends a sync client's requests to the app on the portal's event loop; raises handlers' exceptions."""

    def __init__(self, app: HostApp, portal: BlockingPortal, core: _Core) -> None:
        self._portal = portal
        self._asgi = httpx.ASGITransport(app=app)
        self._core = core

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body as bytes, which the ASGI transport can stream on the other loop
        status, headers, body, extensions, failures = self._portal.call(self._send, request)
        if failures and self._core.raise_handler_exceptions:
            raise failures[0]
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), extensions=extensions)

    async def _send(self, request: httpx.Request) -> tuple[int, Any, bytes, dict[str, Any], list[BaseException]]:
        with collect() as failures:
            response = await self._asgi.handle_async_request(request)
            body = await response.aread()
        return response.status_code, response.headers.raw, body, response.extensions, failures


class _RaisingASGITransport(httpx.ASGITransport):
    """An async client's transport to the app on the same loop; raises handlers' exceptions."""

    def __init__(self, app: HostApp, core: _Core) -> None:
        super().__init__(app=app)
        self._core = core

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with collect() as failures:
            response = await super().handle_async_request(request)
        if failures and self._core.raise_handler_exceptions:
            raise failures[0]
        return response


def sync_client(app: HostApp, portal: BlockingPortal, core: _Core) -> httpx.Client:
    """A client whose requests the app answers on the portal's loop."""
    return httpx.Client(transport=_PortalTransport(app, portal, core), base_url=BASE_URL)


@contextlib.asynccontextmanager
async def running_async(app: HostApp, clock: ManualClock) -> AsyncIterator[AsyncWorkerhost]:
    """Start the app (its lifespan) on the running loop, with a client; stop it on exit."""
    async with app.router.lifespan_context(app):
        core = _Core(app, clock)
        await core.started()
        async with httpx.AsyncClient(transport=_RaisingASGITransport(app, core), base_url=BASE_URL) as client:
            try:
                yield AsyncWorkerhost(core, client)
            finally:
                await core.finish()


@contextlib.contextmanager
def running(app: HostApp, clock: ManualClock) -> Iterator[Workerhost]:
    """Start the app on a background event loop, with a sync client; stop it on exit (one test's host)."""
    from anyio.from_thread import start_blocking_portal

    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(app.router.lifespan_context(app)):
            core = _Core(app, clock)
            portal.call(core.started)
            with sync_client(app, portal, core) as client:
                yield Workerhost(core, client, portal)
