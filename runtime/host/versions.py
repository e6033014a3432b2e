"""A *version*: one loaded generation of every worker (modules, envs, routes) built from one config.

The host serves exactly one current version, swapped by a single reference assignment on reload.
Each version counts its in-flight requests and holds its ``wait_until`` tasks, so a replaced version
can retire only after both have drained. KV bindings are rebuilt per version; the data is not touched.
A worker's ``env`` also holds its assets binding and a stand-in for each binding that is not emulated.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from types import ModuleType
from typing import Any

from bindings import KVNamespace
from bindings.clock import Clock
from bindings.fidelity import Fidelity, FidelityPlan
from bindings.storage.base import NamespaceInfo, Store

from ..config import RuntimeConfig, WorkerConfig
from ..config.fidelity import fidelity_plan
from ..config.namespaces import ensure_namespaces
from ..config.routes import RoutePattern, parse_route
from ..config.secrets import Redactor
from ..errors import HANDLER_FAILURES, HandlerLoadError
from ..handlers.ctx import ExecutionContext
from ..handlers.env import Env
from ..handlers.importer import load_off_loop
from ..handlers.loader import Handlers, unload_module
from ..handlers.tracebacks import format_user_traceback
from ..handlers.unavailable import UnavailableBinding
from ..handlers.workers.context import WorkerScope, scope_of_import
from .assets import AssetsBinding, AssetServer
from .router import Router

__all__ = ["LoadedWorker", "Version", "build_version", "ensure_namespaces"]

logger = logging.getLogger("workerhost")


class LoadedWorker:
    """One worker of a version: its entrypoints, its env, and where it came from."""

    __slots__ = (
        "config",
        "name",
        "fetch",
        "scheduled",
        "env",
        "shape",
        "module",
        "version",
        "redact",
        "namespaces",
        "sink",
        "scope",
        "assets",
        "counts_operations",
    )

    def __init__(
        self,
        config: WorkerConfig,
        handlers: Handlers,
        env: Env,
        version: Version,
        namespaces: dict[str, NamespaceInfo],
        redact: Any,
        scope: WorkerScope | None = None,
        assets: AssetServer | None = None,
        counts_operations: bool = False,
    ) -> None:
        self.config = config
        self.name = config.name
        self.fetch = handlers.fetch
        self.scheduled = handlers.scheduled
        self.shape = handlers.shape
        self.module = handlers.module
        self.env = env
        self.version = version
        self.namespaces = namespaces  # binding name -> namespace
        self.redact = redact
        self.sink = self.run_later  # bound once: every request hands it to its ctx
        self.scope = scope or WorkerScope(env, config.name)  # what `from workers import env` reads
        self.assets = assets  # served before the worker (runtime.host.assets)
        # A binding has ``limits: strict``: each invocation gets a budget of KV operations.
        self.counts_operations = counts_operations

    def run_later(self, awaitable: Awaitable[Any]) -> None:
        """Start ``wait_until`` work now (the response is out) and keep it until it is done."""
        self.version.track(asyncio.ensure_future(self._guarded(awaitable)))

    async def _guarded(self, awaitable: Awaitable[Any]) -> None:
        try:
            await awaitable
        except HANDLER_FAILURES as exc:
            logger.error("%s: wait_until work raised\n%s", self.name, format_user_traceback(exc, self.redact).rstrip())
            if self.version.failures is not None:
                self.version.failures.append(exc)


class Version:
    """A loaded generation of all workers, with its route table."""

    def __init__(
        self,
        number: int,
        config: RuntimeConfig,
        router: Router[LoadedWorker] | None = None,
        fidelity: FidelityPlan | None = None,
    ) -> None:
        self.number = number
        self.config = config
        self.fidelity = fidelity or FidelityPlan()  # each namespace's production-fidelity modes
        self.workers: dict[str, LoadedWorker] = {}
        self.router: Router[LoadedWorker] = router or Router(())
        self.loaded_at = time.time()
        self.in_flight = 0
        self._pending: set[asyncio.Future[Any]] = set()
        self._retiring = False
        self._idle: asyncio.Event | None = None
        # Where wait_until work's exceptions also go, when someone wants them raised (the pytest plugin).
        self.failures: list[BaseException] | None = None

    def __repr__(self) -> str:
        return f"<Version {self.number}: {', '.join(self.workers)}>"

    # --- requests and wait_until work ------------------------------------------------------------

    def enter(self) -> None:
        """A request (or scheduled run) starts on this version; ``leave`` ends it."""
        self.in_flight += 1

    def leave(self, ctx: ExecutionContext, worker: LoadedWorker) -> None:
        """A request (or scheduled run) is done: start its wait_until work."""
        self.in_flight -= 1
        ctx.release(worker.sink)
        if self._retiring:
            self._check_idle()

    def track(self, task: asyncio.Future[Any]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if self._retiring:
            self._check_idle()

    def _check_idle(self) -> None:
        if self._idle is not None and not self.in_flight and not self._pending:
            self._idle.set()

    @property
    def pending(self) -> int:
        """How many wait_until tasks are still running."""
        return len(self._pending)

    async def drain(self) -> None:
        """Wait until every wait_until task started so far (and any they start) has finished."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    def cancel_pending(self) -> int:
        """Cancel the wait_until work still running; returns how many tasks were cancelled."""
        pending = [task for task in self._pending if not task.done()]
        for task in pending:
            task.cancel()
        return len(pending)

    async def retire(self, timeout: float | None = None) -> None:
        """Wait for in-flight requests and wait_until work, then unload this version's modules."""
        self._retiring = True
        self._idle = asyncio.Event()
        self._check_idle()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            logger.warning(
                "version %d retired with %d request(s) and %d wait_until task(s) still running",
                self.number,
                self.in_flight,
                len(self._pending),
            )
            for task in list(self._pending):
                task.cancel()
        for worker in self.workers.values():
            await worker.scope.close()  # an ASGI app's lifespan shutdown, for one
            unload_module(worker.module)


async def build_version(
    number: int, config: RuntimeConfig, store: Store, clock: Clock, fidelity: Fidelity | None = None
) -> Version:
    """Load every worker of ``config`` as version ``number``; raises ConfigError or HandlerLoadError.

    Args:
        fidelity: the host's production-fidelity state, which the bindings of namespaces with a mode
            on are built on; the host switches it to the version's plan when the version starts serving.
    """
    namespaces = await ensure_namespaces(store, config)
    fidelity = fidelity or Fidelity(clock)
    version = Version(number, config, fidelity=fidelity_plan(config, namespaces))
    routes: list[tuple[RoutePattern, LoadedWorker]] = []
    try:
        for worker_config in config.workers:
            worker = await _load_worker(version, worker_config, namespaces, store, clock, fidelity)
            version.workers[worker.name] = worker
            routes.extend((parse_route(route), worker) for route in worker_config.routes)
    except BaseException:
        for worker in version.workers.values():
            unload_module(worker.module)
        raise
    version.router = Router(routes)
    return version


async def _load_worker(
    version: Version,
    config: WorkerConfig,
    namespaces: dict[str, NamespaceInfo],
    store: Store,
    clock: Clock,
    fidelity: Fidelity,
) -> LoadedWorker:
    secrets = version.config.secrets
    values: dict[str, Any] = dict(config.vars)
    values.update(secrets)
    bound: dict[str, NamespaceInfo] = {}
    counts_operations = False
    for binding in config.kv_namespaces:
        info = namespaces[binding.namespace]
        bound[binding.binding] = info
        state = fidelity.state(info.id, version.fidelity.settings_for(info.id))
        counts_operations |= state is not None and state.settings.strict_limits
        storage = await store.namespace(info.id)
        values[binding.binding] = KVNamespace(storage, clock, name=binding.binding, fidelity=state)
    assets = None
    if config.assets is not None:
        assets = AssetServer(
            config.assets, has_worker=config.script is not None, compatibility_date=config.compatibility_date
        )
        if config.assets.binding is not None:
            values[config.assets.binding] = AssetsBinding(assets)
    for missing in config.unavailable:
        values[missing.name] = UnavailableBinding(missing.name, missing.kind)
    env = Env(values, frozenset(secrets))
    scope = WorkerScope(env, config.name)
    if config.script is None:
        handlers = _assets_only(config.name, AssetsBinding(assets)) if assets is not None else None
        assert handlers is not None, "a worker without a script has assets (the config checks it)"
    else:
        with scope_of_import(scope):  # `from workers import env` at the top of the script gets this env
            handlers = await load_off_loop(
                config.script, config.script_display, f"{config.name}_v{version.number}", version.config.import_timeout
            )
    if config.crons and handlers.scheduled is None:
        unload_module(handlers.module)
        raise HandlerLoadError(
            f'{config.script_display}: worker "{config.name}" has cron triggers but the script defines no '
            'async "scheduled(controller, env, ctx)" handler'
        )
    # A handler may hold an API token too (from a request's headers), so its tracebacks hide those as well.
    redact = Redactor(version.config.hidden_values)
    return LoadedWorker(config, handlers, env, version, bound, redact, scope, assets, counts_operations)


def _assets_only(name: str, binding: AssetsBinding) -> Handlers:
    """The handler of a worker that is static assets alone: every request is answered from them."""

    async def fetch(request: Any, env: Any, ctx: Any) -> Any:
        return await binding.fetch(request)

    return Handlers(ModuleType(f"_workerhost_assets_{name}"), fetch, None, "assets")
