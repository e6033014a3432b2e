"""Accepting connections in bursts, so a client that opens many at once is not served one per loop turn.

uvloop's server accepts one connection per turn of the event loop. While the loop is busy, each turn
serves every request already in, so the 64th of 64 connections opened together waits for 63 busy
turns before it is even accepted: over a second measured for a handler that lists 1000 keys, and
its first request is that late (wrk, browsers and test clients all open connections in bursts).
``Acceptor`` instead takes every waiting connection when the listening socket turns readable, up
to ``MAX_PER_TURN``, and hands each to the loop as an accepted socket. The cap keeps a flood from
starving the requests in flight, and lets processes sharing the socket (``--workers``) split a burst
between them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

__all__ = ["MAX_PER_TURN", "Acceptor"]

MAX_PER_TURN = 32

ProtocolFactory = Callable[[], asyncio.Protocol]


class Acceptor:
    """Serves ``sock`` with protocols from ``protocol_factory``; ``close``/``wait_closed`` as an asyncio Server."""

    def __init__(self, sock: socket.socket, protocol_factory: ProtocolFactory) -> None:
        self._sock = sock
        self._factory = protocol_factory
        self._loop = asyncio.get_running_loop()
        self._pending: set[asyncio.Task[object]] = set()
        self._tcp = sock.family in (socket.AF_INET, socket.AF_INET6)
        sock.setblocking(False)
        self._loop.add_reader(sock.fileno(), self._accept)
        self._open = True

    def _accept(self) -> None:
        for _ in range(MAX_PER_TURN):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return  # nothing more waiting (or another process took it)
            except OSError:
                return  # e.g. out of descriptors: the socket stays readable, so the next turn retries
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

    def close(self) -> None:
        """Stop accepting (the socket itself belongs to the caller)."""
        if self._open:
            self._open = False
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """Wait until the connections accepted before ``close`` have been handed to the loop."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
