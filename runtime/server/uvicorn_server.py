"""The one module that touches uvicorn's internals: its Server, made to accept through ``accept.Acceptor``.

Why reach inside: uvicorn's own server accepts one connection per loop turn (see ``accept``), and it
offers no hook to accept differently. So ``UvicornServer.startup`` lets uvicorn run the lifespan with
no socket of its own (``sockets=[]``), then builds uvicorn's HTTP protocol itself, with the arguments
its constructor takes (``config``, ``server_state``, ``app_state``, ``_loop``), for each connection
``Acceptor`` hands over. ``servers`` then holds the acceptors: uvicorn's shutdown calls only
``close()`` and ``wait_closed()`` on them, which ``Acceptor`` provides. pyproject.toml bounds uvicorn
to the versions this was checked against; the end-to-end tests fail if that contract moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator
from typing import Any, cast

import uvicorn

from .accept import Acceptor
from .signals import handle_signals

__all__ = ["UvicornServer", "loop_factory", "uvicorn_config"]


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed; None (asyncio's own) elsewhere."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _http_implementation() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


def uvicorn_config(app: Any) -> uvicorn.Config:
    """uvicorn's settings for the host (the benchmark serves its bare Starlette baseline with the same)."""
    return uvicorn.Config(
        app,
        lifespan="on",
        http=_http_implementation(),
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


class UvicornServer(uvicorn.Server):
    """uvicorn's Server, accepting connections in bursts (``Acceptor``) and calling ``on_started`` once serving."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[], object]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn runs the lifespan and serves no socket itself (an empty list); we accept instead.
        await super().startup(sockets=[])
        if not self.started:
            return
        config, loop = self.config, asyncio.get_running_loop()

        def create_protocol() -> asyncio.Protocol:
            protocol: asyncio.Protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop
            )  # the ignore: http_protocol_class is typed as a bare asyncio.Protocol class; it is uvicorn's
            return protocol

        acceptors = [Acceptor(sock, create_protocol) for sock in sockets or []]
        self.servers = cast(list[Any], acceptors)  # shutdown only calls close() and wait_closed()
        self._on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The loop's own signal handling, not uvicorn's signal.signal() handlers: under uvloop those
        # were seen to miss a Ctrl-C now and then. And once shut down we do not re-raise the signal,
        # which would interrupt our own final cleanup.
        loop = asyncio.get_running_loop()
        installed = handle_signals(loop, lambda sig: self.handle_exit(sig, None))
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
