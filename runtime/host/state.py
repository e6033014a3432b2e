"""``Host``: the running state behind the app: store, clock, current version, watcher, scheduler.

``start`` opens the store, creates the declared namespaces, loads the workers and starts the expiry
sweep, the cron scheduler, the file watcher and the watchdog that reports handler code blocking the
event loop. ``reload`` builds a new version beside the current one and swaps it in; ``stop`` lets
in-flight and ``wait_until`` work finish, then closes the store.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from bindings import SystemClock
from bindings.changes import ChangeFeed, feed_for
from bindings.clock import Clock
from bindings.errors import EncryptionError
from bindings.fidelity import Fidelity
from bindings.storage import Store, open_store
from bindings.storage.durability import Durability, durability_of
from bindings.storage.encryption import verify_store

from ..api.ratelimit import ApiRateLimiter
from ..config import RuntimeConfig, reload_config
from ..config.encryption import explain
from ..config.redaction import Redactor
from ..config.secrets import redactor
from ..errors import StartupError, WorkerhostError
from .accesslog import RequestLog
from .reload import ChangeSource, Reloader, WatchfilesSource, watch_targets
from .scheduler import Scheduler
from .versions import Version, build_version
from .watchdog import LoopWatchdog

__all__ = ["SHUTDOWN_GRACE", "Host", "ReloadFailure"]

logger = logging.getLogger("workerhost")
SHUTDOWN_GRACE = 30.0  # seconds wait_until work gets at shutdown, as Cloudflare gives after a response


@dataclass(frozen=True)
class ReloadFailure:
    """Why the last reload failed; shown at /__workerhost/status until a reload succeeds."""

    message: str
    at: float


class Host:
    """The running state behind the app: store, clock, current version, watcher, scheduler.

    Args:
        config: the validated config.
        store: the KV store; by default the one at ``config.storage`` with ``config.encryption``'s key
            (``open_store``), opened at start and closed at stop. An injected store is left open.
        clock: where KV and cron get the time; ``SystemClock`` by default.
        change_source: where file changes come from when ``config.reload`` is on; watchfiles by default.
        debug: show tracebacks on handler errors (dev); otherwise a plain 500.
        crons: run cron triggers when they come due; off, scheduled handlers run only when asked
            (``/__scheduled``, the pytest plugin), so a test that moves the clock sees no surprise runs.
        live_feed: keep a live feed of KV changes (``changes``) for the dashboard: the writes of the
            bindings and the REST API, and, through the journal, of other processes.
        throwaway: the store lives for a test session only (the pytest plugin's, unsynced): its
            durability is neither warned about nor required.
    """

    def __init__(
        self,
        config: RuntimeConfig,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        change_source: ChangeSource | None = None,
        debug: bool = True,
        crons: bool = True,
        live_feed: bool = False,
        throwaway: bool = False,
    ) -> None:
        self.config = config
        self.throwaway = throwaway
        self.clock: Clock = clock or SystemClock()
        self.debug = debug
        self.crons = crons
        self.version: Version | None = None
        self.reload_failure: ReloadFailure | None = None
        self.reloads = 0
        self.started = False
        self._store = store
        self._owns_store = store is None
        self._change_source = change_source
        self._numbers = itertools.count(1)
        self._reloader: Reloader | None = None
        self._scheduler = Scheduler(lambda: self.version, self.clock)
        # Production-fidelity state per namespace, shared by bindings and the REST API, kept across reloads.
        self.fidelity = Fidelity(self.clock)
        self.api_rate_limiter = ApiRateLimiter(self.clock, enabled=config.api.rate_limit)
        self._tasks: list[asyncio.Task[Any]] = []
        self._reload_task: asyncio.Task[Any] | None = None
        self._retiring: set[asyncio.Task[Any]] = set()
        self.watchdog = LoopWatchdog()
        self.request_log = RequestLog()  # this host's own, with its own secrets' redactor
        self.durability: Durability | None = None  # read at start: the banner says it
        self.changes: ChangeFeed | None = feed_for(config.storage, self.clock) if live_feed else None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config.storage, key=self.config.encryption)
        return self._store

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the workers and start the background tasks; raises WorkerhostError if the config cannot load."""
        if self.started:
            return
        from bindings.sweeper import sweep_forever

        try:
            await self._check_encryption()
            self.version = await build_version(
                next(self._numbers), self.config, self.store, self.clock, self.fidelity, self.changes
            )
            self.durability = await self._check_durability()
        except BaseException:
            await self._close_store()
            raise
        self.fidelity.use(self.version.fidelity)
        self.started = True
        self.request_log.redact = _log_redactor(self.config)
        self.watchdog.start()
        self._tasks.append(asyncio.ensure_future(sweep_forever(self.store, self.clock, self.config.sweep_interval)))
        if self.crons:
            self._tasks.append(asyncio.ensure_future(self._scheduler.run()))
        if self.config.reload or self._change_source is not None:
            self._reloader = Reloader(
                self._change_source or WatchfilesSource(), lambda: watch_targets(self.config), self.reload
            )
            self._reload_task = asyncio.ensure_future(self._reloader.run())

    async def _check_encryption(self) -> None:
        # Before anything is read or written: a missing or wrong key stops the host here, not at a request.
        try:
            await verify_store(self.store)
        except EncryptionError as exc:
            raise StartupError(explain(exc)) from None

    async def _check_durability(self) -> Durability:
        # Said at every start, in the log and the banner; with --require-durable, a reason not to start.
        durability = await durability_of(self.store)
        warning = durability.warning()
        if warning is not None and not self.throwaway:
            if self.config.require_durable:
                raise WorkerhostError(
                    f"the KV store can lose acknowledged writes, and --require-durable "
                    f"(WORKERHOST_REQUIRE_DURABLE) is set: {warning}"
                )
            logger.warning("KV storage: %s", warning)
        return durability

    async def stop(self) -> None:
        """Stop watching and scheduling, let wait_until work finish (within a grace period), close the store."""
        if not self.started:
            return
        self.started = False
        await self._stop_reloader()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._scheduler.wait()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        if self.version is not None:
            await self.version.retire(SHUTDOWN_GRACE)
        self.watchdog.stop()
        if self.changes is not None:
            await self.changes.close()
        await self._close_store()

    def stopping(self) -> None:
        """The server is shutting down: end the live feed's streams now, so open ones do not hold it up."""
        if self.changes is not None:
            self.changes.end_subscriptions()

    async def _stop_reloader(self) -> None:
        # Stopping through the watcher's stop event lets its thread exit cleanly; cancel only as a fallback.
        if self._reloader is None or self._reload_task is None:
            return
        self._reloader.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._reload_task), 1.0)
        except TimeoutError:
            logger.debug("the file watcher did not stop within 1s; cancelling it")
            self._reload_task.cancel()
            await asyncio.gather(self._reload_task, return_exceptions=True)
        except Exception:
            logger.exception("the file watcher failed")
        self._reloader = self._reload_task = None

    async def _close_store(self) -> None:
        if self._owns_store and self._store is not None:
            store, self._store = self._store, None
            await store.close()

    async def drain(self) -> None:
        """Wait for all wait_until work started so far, in every version (for tests)."""
        await self._scheduler.wait()
        if self.version is not None:
            await self.version.drain()

    # --- reload ----------------------------------------------------------------------------------

    async def reload(self, changed: set[str] | None = None) -> bool:
        """Re-read the config, load fresh modules and swap them in; on failure keep the current version."""
        started = perf_counter()
        try:
            config = reload_config(self.config)
            config = self._keep_fixed_settings(config)
            version = await build_version(
                next(self._numbers), config, self.store, self.clock, self.fidelity, self.changes
            )
        except WorkerhostError as exc:
            return self._failed(str(exc))
        except Exception as exc:  # a bug of ours or a storage failure: report it, keep serving
            trace = "".join(traceback.format_exception(exc)).rstrip()
            return self._failed(f"{type(exc).__name__}: {exc}", f"reload failed unexpectedly\n{trace}")
        old, self.version, self.config = self.version, version, config  # the swap: one reference
        self.fidelity.use(version.fidelity)
        self.api_rate_limiter.enabled = config.api.rate_limit
        self.request_log.redact = _log_redactor(config)
        self.reloads += 1
        if self.reload_failure is not None:
            logger.info("reload succeeded; the previous error is fixed")
        self.reload_failure = None
        logger.info("reloaded: version %d serving (%.0fms)", version.number, (perf_counter() - started) * 1000)
        if old is not None:
            task = asyncio.ensure_future(old.retire(SHUTDOWN_GRACE))
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        return True

    def _failed(self, message: str, detail: str | None = None) -> bool:
        # A config or import error may quote a secret's value (a bad line of .dev.vars, a traceback):
        # blank them before the message is kept for the status route or written to the log.
        redact = Redactor(self.config.hidden_values)
        message = redact(message)
        self.reload_failure = ReloadFailure(message, time.time())
        if detail is not None:
            logger.error("%s", redact(detail))
        logger.error(
            "reload failed; still serving version %s:\n%s", self.version.number if self.version else "-", message
        )
        return False

    def _keep_fixed_settings(self, config: RuntimeConfig) -> RuntimeConfig:
        # The store and the listening socket are open; changing them needs a restart.
        from dataclasses import replace

        for name in ("persist_to", "storage", "account_id", "encryption"):
            if getattr(config, name) != getattr(self.config, name):
                logger.warning("%s changed in %s; restart workerhost dev to use it", name, config.source)
        return replace(
            config,
            persist_to=self.config.persist_to,
            account_id=self.config.account_id,
            host=self.config.host,
            port=self.config.port,
            reload=self.config.reload,
            storage=self.config.storage,
            encryption=self.config.encryption,
        )


def _log_redactor(config: RuntimeConfig) -> Callable[[str], str] | None:
    # The request log shows paths, and a path may hold a secret (a webhook URL) or an API token.
    return redactor([*config.secrets.values(), *config.api.tokens, *config.api.read_tokens])
