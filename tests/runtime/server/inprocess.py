"""An ASGI app served in-process on a free loopback port by the host's server (or plain uvicorn's)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn

from runtime.server.limits import ConnectionLimits
from runtime.server.uvicorn_server import UvicornServer, uvicorn_config


@contextlib.asynccontextmanager
async def serving(
    app: Any, limits: ConnectionLimits, *, plain: bool = False, stopping: Callable[[], None] | None = None
) -> AsyncIterator[int]:
    """Serve ``app`` with the host's protocol (uvicorn's own if ``plain``); yields the port.

    ``stopping`` runs when the server is told to exit, before it is waited for (to release a request
    the app holds open).
    """
    config = uvicorn_config(app, limits)
    server = uvicorn.Server(config) if plain else UvicornServer(config, lambda: None, limits)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), task.result()
            await asyncio.sleep(0.005)
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        if stopping is not None:
            stopping()
        await task
        sock.close()
