"""``serve(config)``: run the host under uvicorn, as ``workerhost dev`` does.

The socket is bound and the workers are loaded before uvicorn starts, so a taken port or a broken
script is reported as one clear error instead of a server that half-starts. uvicorn's access log is
off: the host logs each request itself, on one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from typing import Any

import uvicorn
from starlette.routing import BaseRoute

from ..config import RuntimeConfig
from ..errors import StartupError
from ..host.accesslog import request_log
from .accept import Acceptor

__all__ = ["check_exposure", "loop_factory", "serve", "serve_asgi_app", "uvicorn_config"]


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"[{record.levelname.lower()}] {message}"
        return message


def setup_logging(level: int = logging.INFO) -> None:
    """Send the host's log (one line per request, reloads, handler errors) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    for name, logger_level in (("workerhost", level), ("uvicorn", logging.WARNING), ("watchfiles", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logger_level)
        logger.propagate = False


def check_exposure(config: RuntimeConfig) -> None:
    """Refuse a non-loopback address while the REST API has no tokens (DESIGN.md, Security)."""
    from ..api import ApiExposureError, check_exposure as check_api_exposure
    from ..host.app import api_auth

    try:
        check_api_exposure(config.host, api_auth(config))
    except ApiExposureError:
        raise StartupError(
            f"refusing to listen on {config.host}: it is not a loopback address and no API tokens are configured, "
            f"so anyone who can reach it could read and write your KV data. Set {config.api.tokens_env} "
            "(comma-separated tokens) or listen on 127.0.0.1"
        ) from None


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "the port is already in use" if exc.errno in (48, 98, 10048) else str(exc)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}; pass --port or set WORKERHOST_PORT") from None
    return sock


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed; None (asyncio's own) elsewhere."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop  # type: ignore[no-any-return]


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


def serve(config: RuntimeConfig, *, extra_routes: Sequence[BaseRoute] = (), banner: bool = True) -> None:
    """Serve ``config`` until interrupted (Ctrl-C), then finish in-flight and wait_until work and return.

    With ``config.processes`` above 1, that many processes serve the same socket (``runtime.processes``).

    Raises:
        WorkerhostError: the config cannot load, or the server cannot listen where asked.
    """
    check_exposure(config)
    setup_logging()
    sock = _bind(config.host, config.port)
    request_log.use_stream(sys.stderr)
    try:
        if config.processes > 1:
            from .processes import serve_processes

            def serve_one(child: RuntimeConfig, crons: bool, on_started: Callable[[str], None]) -> None:
                _run(_serve(child, sock, extra_routes, False, crons=crons, on_started=on_started))

            serve_processes(config, serve_one, banner)
        else:
            _run(_serve(config, sock, extra_routes, banner))
    finally:
        request_log.use_stream(None)
        sock.close()


def serve_asgi_app(app: Any, host: str, port: int) -> None:
    """Serve any ASGI app exactly as ``workerhost dev`` serves the host (uvicorn settings, loop, accepting).

    The benchmark's bare Starlette baseline runs through this, so it measures the same stack.
    """
    sock = _bind(host, port)
    try:
        _run(_Server(uvicorn_config(app), lambda: None).serve(sockets=[sock]))
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
    from .banner import render_banner

    app = create_app(config, extra_routes=extra_routes, crons=crons)
    # A Ctrl-C while the workers load must stop us, not be lost: asyncio's own handler would cancel a
    # step of start-up that finishes anyway. The server replaces these handlers once it runs.
    early: list[int] = []
    _handle_signals(asyncio.get_running_loop(), early.append)
    await app.host.start()  # errors surface here, before anything listens
    if early:
        await app.host.stop()
        return
    host, port = sock.getsockname()[:2]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def started() -> None:
        text = render_banner(app.host, url)
        if banner:
            print(text, flush=True)
        if on_started is not None:
            on_started(text)

    server = _Server(uvicorn_config(app), started)
    try:
        await server.serve(sockets=[sock])
    finally:
        await app.host.stop()  # a no-op if the lifespan already stopped it


class _Server(uvicorn.Server):
    """uvicorn's Server, accepting connections in bursts (``runtime.accept``) and printing the banner."""

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
            )
            return protocol

        self.servers = [Acceptor(sock, create_protocol) for sock in sockets or []]  # type: ignore[list-item]
        self._on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The loop's own signal handling, not uvicorn's signal.signal() handlers: under uvloop those
        # were seen to miss a Ctrl-C now and then. And once shut down we do not re-raise the signal,
        # which would interrupt our own final cleanup.
        loop = asyncio.get_running_loop()
        installed = _handle_signals(loop, lambda sig: self.handle_exit(sig, None))
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)


def _handle_signals(loop: asyncio.AbstractEventLoop, handler: Callable[[int], object]) -> list[int]:
    """Route Ctrl-C and SIGTERM to ``handler`` through the loop; returns the signals handled."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            continue
        installed.append(sig)
    return installed
