"""Talking to the server: a client per event loop, scripts, a Cluster found by itself, errors in our words.

redis-py's asyncio client belongs to the event loop it first ran on, so a store keeps one client per
loop (a host has one loop; tests and the pytest plugin may use a store from another). The first use
asks the server whether it is a Cluster node (``INFO cluster``) and, if so, switches to the Cluster
client, which finds every other node from that one.

Nothing is retried: a write whose answer was lost may have been applied, and sending it again
could overwrite a later write acknowledged to someone else. A failure surfaces at once as
``StorageUnavailableError``; the client reconnects on the next call, so the store recovers by itself
when the server is back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from ...errors import StorageError, StorageFullError, StorageUnavailableError
from .location import RedisSettings
from .scripts import SCRIPTS

__all__ = ["Client", "Connector", "translate_error"]

logger = logging.getLogger("workerhost.kv")

Client = Redis | RedisCluster
# Calls in flight at once per event loop: each holds a connection, so this bounds the connections a
# host opens (to each node), and a burst waits its turn instead of running into the server's maxclients.
MAX_IN_FLIGHT = 64


@dataclass
class _Link:
    """One event loop's client and the scripts registered on it."""

    client: Client
    cluster: bool
    scripts: dict[str, AsyncScript]
    gate: asyncio.Semaphore


def translate_error(exc: BaseException, settings: RedisSettings) -> BaseException:
    """redis-py's errors as the store's own (anything else is returned as it is)."""
    where = f"Redis at {settings.address}"
    if isinstance(exc, redis_errors.AuthenticationError | redis_errors.NoPermissionError):
        error: StorageError = StorageError(f"{where} refused the credentials: {exc}")
    elif isinstance(exc, redis_errors.BusyLoadingError):
        error = StorageUnavailableError(f"{where} is loading its data after a restart; try again shortly")
    elif isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError | OSError):
        error = StorageUnavailableError(f"{where} is unreachable: {_reason(exc)}")
    elif isinstance(exc, redis_errors.ClusterDownError | redis_errors.TryAgainError):
        error = StorageUnavailableError(f"{where}: the Cluster cannot serve this now: {exc}")
    elif isinstance(exc, redis_errors.OutOfMemoryError):
        error = StorageFullError(f"{where} is out of memory (maxmemory); the write was not applied")
    elif isinstance(exc, redis_errors.RedisError):
        error = StorageError(f"{where} refused the request: {exc}")
    else:
        return exc
    error.__cause__ = exc
    return error


def _reason(exc: BaseException) -> str:
    # redis-py says "Error 111 connecting to host:port. Connect call failed (...)"; the error under it
    # says it better.
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ssl.SSLError):
        return str(cause)
    if isinstance(cause, OSError) and cause.errno:
        return os.strerror(cause.errno)
    if isinstance(exc, redis_errors.TimeoutError | TimeoutError):
        return "no answer within the timeout"
    text = str(exc).strip()
    return (text or type(exc).__name__).rstrip(".")


class Connector:
    """The clients of one store, one per event loop, connected on first use.

    Args:
        settings: the store's location, parsed.
    """

    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self._links: dict[asyncio.AbstractEventLoop, asyncio.Task[_Link]] = {}
        self._closed = False

    async def _link(self) -> _Link:
        if self._closed:
            raise StorageError("the store is closed")
        loop = asyncio.get_running_loop()
        task = self._links.get(loop)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            # One connection attempt at a time per loop; after a failure, the next call tries again.
            task = self._links[loop] = loop.create_task(self._connect())
        return await asyncio.shield(task)

    async def _connect(self) -> _Link:
        settings = self.settings
        server = Redis(**self._options(), db=settings.db, **self._address())
        client: Client = server
        try:
            cluster = await self._is_cluster(server)
            if cluster:
                await client.aclose()
                if settings.path is not None:
                    raise StorageError(f"{settings.public()}: a Redis Cluster is reached over TCP, not a unix socket")
                if settings.db:
                    raise StorageError(f"{settings.public()}: a Redis Cluster has only database 0")
                client = RedisCluster(
                    host=settings.host,
                    port=settings.port,
                    max_connections=MAX_IN_FLIGHT * 2,
                    **self._options(),
                )
                await client.initialize()
        except BaseException as exc:
            await client.aclose()
            raise translate_error(exc, settings) from None
        scripts = {name: client.register_script(text) for name, text in SCRIPTS.items()}
        return _Link(client, cluster, scripts, asyncio.Semaphore(MAX_IN_FLIGHT))

    def _address(self) -> dict[str, Any]:
        if self.settings.path is not None:
            return {"unix_socket_path": self.settings.path}
        return {"host": self.settings.host, "port": self.settings.port}

    def _options(self) -> dict[str, Any]:
        settings = self.settings
        options: dict[str, Any] = {
            "username": settings.username,
            "password": settings.password,
            "socket_timeout": settings.timeout,
            "socket_connect_timeout": settings.timeout,
            "retry": Retry(NoBackoff(), 0),
            "protocol": 2,
        }
        if settings.scheme == "rediss":
            options["ssl"] = True
            options.update(settings.tls)
        return options

    @staticmethod
    async def _is_cluster(client: Redis) -> bool:
        try:
            info = await client.info("cluster")
        except redis_errors.ResponseError:  # INFO refused (a managed server's ACL): take it as one server
            return False
        return bool(info.get("cluster_enabled"))

    # --- calls ---------------------------------------------------------------------------------------

    async def script(self, name: str, keys: Sequence[bytes], args: Sequence[Any]) -> Any:
        """Run script ``name`` with ``keys`` and ``args``; failures become ``StorageError``."""
        link = await self._link()
        try:
            async with link.gate:
                return await link.scripts[name](keys=keys, args=args)
        except (redis_errors.RedisError, OSError) as exc:
            raise translate_error(exc, self.settings) from None

    async def command(self, *args: Any, **options: Any) -> Any:
        """Run one command (routed by its key on a Cluster); failures become ``StorageError``."""
        link = await self._link()
        try:
            async with link.gate:
                return await link.client.execute_command(*args, **options)
        except (redis_errors.RedisError, OSError) as exc:
            raise translate_error(exc, self.settings) from None

    async def client(self) -> tuple[Client, bool]:
        """This loop's client, and whether it is a Cluster's (for calls that must reach every node)."""
        link = await self._link()
        return link.client, link.cluster

    async def close(self) -> None:
        """Close this loop's connections; a loop that is gone took its own with it."""
        self._closed = True
        loop = asyncio.get_running_loop()
        links, self._links = self._links, {}
        for owner, task in links.items():
            if owner is not loop:
                continue
            if not task.done():
                task.cancel()
            done, _ = await asyncio.wait([task])
            if not task.cancelled() and task.exception() is None:
                await task.result().client.aclose()
