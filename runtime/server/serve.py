"""``serve(config)``: run the host under uvicorn, as ``workerhost dev`` does.

The socket is bound and the workers are loaded before uvicorn starts, so a taken port or a broken
script is reported as one clear error instead of a server that half-starts. uvicorn's access log is
off: the host logs each request itself, on one line.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from ..config import RuntimeConfig
from ..config.exposure import check_exposure
from .limits import ConnectionLimits
from .listen import bind
from .logs import setup_logging
from .signals import handle_signals
from .uvicorn_server import UvicornServer, loop_factory, uvicorn_config

if TYPE_CHECKING:
    from ..host.app import HostApp

__all__ = ["serve", "serve_asgi_app"]


def serve(config: RuntimeConfig, *, extra_routes: Sequence[BaseRoute] = (), banner: bool = True) -> None:
    """Serve ``config`` until interrupted (Ctrl-C), then finish in-flight and wait_until work and return.

    With ``config.processes`` above 1, that many processes serve the same socket (``processes.py``).

    Raises:
        WorkerhostError: the config cannot load, or the server cannot listen where asked.
    """
    check_exposure(config.host, config.api)
    setup_logging()
    sock = bind(config.host, config.port)
    try:
        if config.processes > 1:
            from .processes import serve_processes

            def serve_one(child: RuntimeConfig, crons: bool, on_started: Callable[[str], None]) -> None:
                _run(_serve(child, sock, extra_routes, False, crons=crons, on_started=on_started))

            serve_processes(config, serve_one, banner)
        else:
            _run(_serve(config, sock, extra_routes, banner))
    finally:
        sock.close()


def serve_asgi_app(app: Any, host: str, port: int) -> None:
    """Serve any ASGI app exactly as ``workerhost dev`` serves the host (uvicorn settings, loop, accepting).

    The benchmark's bare Starlette baseline runs through this, so it measures the same stack.
    """
    sock = bind(host, port)
    try:
        _run(UvicornServer(uvicorn_config(app), lambda: None).serve(sockets=[sock]))
    finally:
        sock.close()


def _run(main: Coroutine[Any, Any, None]) -> None:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main)


async def _serve(
    config: RuntimeConfig,
    sock: socket.socket,
    extra_routes: Sequence[BaseRoute],
    banner: bool,
    *,
    crons: bool = True,
    on_started: Callable[[str], None] | None = None,
) -> None:
    from ..host.app import create_app

    app = create_app(config, extra_routes=extra_routes, crons=crons, network=True, live_feed=True)
    log = app.workerhost.request_log
    log.use_stream(sys.stderr)  # buffered: one write per burst of requests
    try:
        await _serve_app(app, sock, banner, on_started)
    finally:
        log.use_stream(None)  # writes what is still buffered


async def _serve_app(app: HostApp, sock: socket.socket, banner: bool, on_started: Callable[[str], None] | None) -> None:
    # A Ctrl-C or SIGTERM while the workers load stops the start at once, even while a script's import
    # hangs (it runs on a thread the host does not wait for). The server replaces these handlers once it runs.
    starting = asyncio.ensure_future(app.workerhost.start())  # errors surface here, before anything listens
    early: list[int] = []

    def stop_starting(sig: int) -> None:
        early.append(sig)
        starting.cancel()

    handle_signals(asyncio.get_running_loop(), stop_starting)
    try:
        await starting
    except asyncio.CancelledError:
        if not early:
            raise
        return  # start() closed what it had opened
    if early:  # the signal came as the start finished
        await app.workerhost.stop()
        return
    from .banner import render_banner

    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def started() -> None:
        text = render_banner(app.workerhost, url)
        if banner:
            print(text, flush=True)
        if on_started is not None:
            on_started(text)

    config = app.workerhost.config
    limits = ConnectionLimits(header_timeout=config.header_timeout, idle_timeout=config.idle_timeout)
    server = UvicornServer(uvicorn_config(app, limits), started, limits, on_exit=app.workerhost.stopping)
    try:
        await server.serve(sockets=[sock])
    finally:
        await app.workerhost.stop()  # a no-op if the lifespan already stopped it
