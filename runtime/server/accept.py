"""Accepting connections in bursts, so a client that opens many at once is not served one per loop turn.

uvloop's server accepts one connection per turn of the event loop. While the loop is busy, each turn
serves every request already in, so the 64th of 64 connections opened together waits for 63 busy
turns before it is even accepted: over a second measured for a handler that lists 1000 keys, and
its first request is that late (wrk, browsers and test clients all open connections in bursts).
``Acceptor`` instead takes every waiting connection when the listening socket turns readable, up
to ``MAX_PER_TURN``, and hands each to the loop as an accepted socket. The cap keeps a flood from
starving the requests in flight, and lets processes sharing the socket (``--workers``) split a burst
between them.

When ``accept`` fails for want of resources (out of file descriptors, most often), the connection stays
queued and the socket stays readable: retrying at every turn would spin a core and starve the very
requests whose end frees a descriptor. So the acceptor stops watching the socket and retries after
``BACKOFF_FIRST``, doubling up to ``BACKOFF_MAX`` while it keeps failing (as Go's net/http does), and
says so in the log once (again only after ``WARN_EVERY``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from types import ModuleType

resource: ModuleType | None
try:  # imported now: out of descriptors, an import cannot open its file
    import resource
except ImportError:  # not on Unix
    resource = None

__all__ = ["BACKOFF_FIRST", "BACKOFF_MAX", "MAX_PER_TURN", "WARN_EVERY", "Acceptor"]

logger = logging.getLogger("workerhost")

MAX_PER_TURN = 32
BACKOFF_FIRST = 0.005  # seconds before the first retry of an accept that failed for want of resources
BACKOFF_MAX = 1.0
WARN_EVERY = 60.0  # seconds between two log lines about it
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)

ProtocolFactory = Callable[[], asyncio.Protocol]


class Acceptor:
    """Serves ``sock`` with protocols from ``protocol_factory``; ``close``/``wait_closed`` as an asyncio Server."""

    def __init__(self, sock: socket.socket, protocol_factory: ProtocolFactory) -> None:
        self._sock = sock
        self._factory = protocol_factory
        self._loop = asyncio.get_running_loop()
        self._pending: set[asyncio.Task[object]] = set()
        self._tcp = sock.family in (socket.AF_INET, socket.AF_INET6)
        self._backoff = BACKOFF_FIRST
        self._retry: asyncio.TimerHandle | None = None
        self._warned_at: float | None = None
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)
        self._open = True

    def _accept(self) -> None:
        for _ in range(MAX_PER_TURN):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # nothing more waiting (or another process took it)
            except ConnectionAbortedError:
                continue  # the client gave up while it waited: take the next
            except OSError as exc:
                self._back_off(exc)
                return
            self._backoff = BACKOFF_FIRST
            conn.setblocking(False)
            if self._tcp:
                # As asyncio and uvloop servers do: a response is sent at once, not held for more.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = self._loop.create_task(self._connect(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()  # the client went away before we got to it

    def _back_off(self, exc: OSError) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._retry = self._loop.call_later(self._backoff, self._resume)
        self._backoff = min(self._backoff * 2, BACKOFF_MAX)
        now = self._loop.time()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning("cannot accept connections: %s", _why(exc))

    def _resume(self) -> None:
        self._retry = None
        if self._open:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting (the socket itself belongs to the caller)."""
        if self._open:
            self._open = False
            self._loop.remove_reader(self._sock.fileno())
            if self._retry is not None:
                self._retry.cancel()
                self._retry = None

    async def wait_closed(self) -> None:
        """Wait until the connections accepted before ``close`` have been handed to the loop."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def _why(exc: OSError) -> str:
    if exc.errno not in _OUT_OF_DESCRIPTORS:
        return f"{exc}; new connections wait"
    if resource is None:
        return "out of file descriptors; new connections wait until some close"
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return (
        f"out of file descriptors (this process may open {limit}; see `ulimit -n`); new connections wait "
        "until some close. Silent and stalled connections close after --header-timeout, idle ones after "
        "--idle-timeout"
    )
