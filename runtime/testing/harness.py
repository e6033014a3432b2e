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
    harness.reset()                     empty every namespace mid-test

Each harness is built on one ``create_app`` app; the plugin gives every test its own app, store
directory and clock, so nothing is shared between tests.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from bindings import KVNamespace, ManualClock

from ..host.dispatch import run_scheduled
from ..host.scheduler import check_scheduled_time, pick_scheduled, scheduled_cron

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


def _names(names: Any) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none"


class _Core:
    """What both harnesses do, as coroutines on the app's event loop."""

    def __init__(self, app: HostApp, clock: ManualClock) -> None:
        self.app = app
        self.host: Host = app.workerhost
        self.clock = clock

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

    async def scheduled(self, worker: str | None, cron: str | None, scheduled_time: float | None) -> None:
        target = pick_scheduled(self.version(), worker)
        cron = scheduled_cron(target, cron)
        when = self.clock.now() if scheduled_time is None else check_scheduled_time(scheduled_time)
        await run_scheduled(target, cron, when * 1000)
        await self.host.drain()

    async def reset(self) -> None:
        from ..config.namespaces import ensure_namespaces

        await self.host.drain()  # work still running could write again after the reset
        store = self.host.store
        keep = {info.id for info in (await ensure_namespaces(store, self.config)).values()}
        for info in await store.list_namespaces():
            if info.id not in keep:
                await store.delete_namespace(info.id)  # made during the test, e.g. through the REST API
                continue
            storage = await store.namespace(info.id)
            while True:  # every row, expired or not
                rows, more = await storage.list(b"", None, _PAGE, -math.inf)
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
        """Wait for every ``ctx.wait_until`` task started so far, and any they start."""
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
        """Wait for every ``ctx.wait_until`` task started so far, and any they start."""
        self._call(self._core.wait_until)

    def scheduled(
        self, worker: str | None = None, *, cron: str | None = None, scheduled_time: float | None = None
    ) -> None:
        """Run a worker's scheduled handler now (see ``AsyncWorkerhost.scheduled``)."""
        self._call(lambda: self._core.scheduled(worker, cron, scheduled_time))

    def reset(self) -> None:
        """Empty every declared namespace and delete any other, as if the test had just started."""
        self._call(self._core.reset)


class _PortalTransport(httpx.BaseTransport):
    """Sends a sync client's requests to the app on the portal's event loop."""

    def __init__(self, app: HostApp, portal: BlockingPortal) -> None:
        self._portal = portal
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # the body as bytes, which the ASGI transport can stream on the other loop
        status, headers, body, extensions = self._portal.call(self._send, request)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), extensions=extensions)

    async def _send(self, request: httpx.Request) -> tuple[int, Any, bytes, dict[str, Any]]:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        return response.status_code, response.headers.raw, body, response.extensions


@contextlib.asynccontextmanager
async def running_async(app: HostApp, clock: ManualClock) -> AsyncIterator[AsyncWorkerhost]:
    """Start the app (its lifespan) on the running loop, with a client; stop it on exit."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield AsyncWorkerhost(_Core(app, clock), client)


@contextlib.contextmanager
def running(app: HostApp, clock: ManualClock) -> Iterator[Workerhost]:
    """Start the app on a background event loop, with a sync client; stop it on exit."""
    from anyio.from_thread import start_blocking_portal

    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(app.router.lifespan_context(app)):
            with httpx.Client(transport=_PortalTransport(app, portal), base_url=BASE_URL) as client:
                yield Workerhost(_Core(app, clock), client, portal)
