"""The one module that touches uvicorn's internals: its Server, accepting through ``accept.Acceptor``, and
its HTTP protocol, holding each connection to ``limits.ConnectionLimits``.

Why reach inside: uvicorn's own server accepts one connection per loop turn (see ``accept``), and it
offers no hook to accept differently. So ``UvicornServer.startup`` lets uvicorn run the lifespan with
no socket of its own (``sockets=[]``), then builds the HTTP protocol itself, with the arguments
uvicorn's constructor takes (``config``, ``server_state``, ``app_state``, ``_loop``), for each connection
``Acceptor`` hands over. ``servers`` then holds the acceptors: uvicorn's shutdown calls only
``close()`` and ``wait_closed()`` on them, which ``Acceptor`` provides.

And uvicorn bounds neither a request's head nor how long it waits for one: a silent client holds its
connection for good, and httptools buffers a 64 MiB header value, re-copying it on every read. Its
protocol has no hook for either, so ``GuardedHttpToolsProtocol`` subclasses it, extending the parser
callbacks it defines (``on_message_begin``, ``on_url``, ``on_header``, ``on_headers_complete``) and
reading the request state it keeps (``cycle``, ``flow``). For speed it also gives each request's cycle
a writer that sends a response's head with its body (``coalesce``, through ``cycle.transport``), and
times the keep-alive wait with its own timer (``on_response_complete``, ``_unset_keepalive_if_required``,
``timeout_keep_alive``), and sends only a request that carries X-Forwarded-For or -Proto through the
proxy headers middleware uvicorn wraps the app in (``app``, whose ``app`` is the one inside).
pyproject.toml bounds uvicorn to the versions this was checked against; the end-to-end tests fail if
that contract moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, cast

import httptools
import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from .accept import Acceptor
from .coalesce import HeadFlusher, HeadHoldingWriter
from .limits import ConnectionLimits, Refusal, refusal_response
from .signals import handle_signals

__all__ = ["GuardedHttpToolsProtocol", "UvicornServer", "loop_factory", "uvicorn_config"]

logger = logging.getLogger("workerhost")
LINGER = 2.0  # seconds a refused connection stays open, for the client to read the answer (see _refuse)


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop where it is installed; None (asyncio's own) elsewhere."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def uvicorn_config(app: Any, limits: ConnectionLimits | None = None) -> uvicorn.Config:
    """uvicorn's settings for the host (the benchmark serves its bare Starlette baseline with the same)."""
    limits = limits or ConnectionLimits()
    return uvicorn.Config(
        app,
        lifespan="on",
        http="httptools",  # the protocol the limits are built on (a dependency, so always there)
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
        # No "server: uvicorn" on every response: it names an implementation detail, and checking and
        # writing it is a share of each response's head. The Date header stays.
        server_header=False,
        # uvicorn annotates an int but only hands it to loop.call_later, which takes fractions of a second.
        timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]
    )


class UvicornServer(uvicorn.Server):
    """uvicorn's Server, accepting connections in bursts (``Acceptor``) and calling ``on_started`` once serving."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_started: Callable[[], object],
        limits: ConnectionLimits | None = None,
        on_exit: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._limits = limits or ConnectionLimits()
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Before uvicorn waits for open requests: a stream that never ends by itself (the dashboard's
        # live feed) is told to end, so the shutdown does not wait out its grace period for it.
        super().handle_exit(sig, frame)
        if self._on_exit is not None:
            self._on_exit()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn runs the lifespan and serves no socket itself (an empty list); we accept instead.
        await super().startup(sockets=[])
        if not self.started:
            return
        config, loop, limits = self.config, asyncio.get_running_loop(), self._limits
        flusher = HeadFlusher(loop)  # one for all connections (see ``coalesce``)

        def create_protocol() -> asyncio.Protocol:
            return GuardedHttpToolsProtocol(
                config=config,
                server_state=self.server_state,
                app_state=self.lifespan.state,
                _loop=loop,
                limits=limits,
                flusher=flusher,
            )

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


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request the host refuses."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, holding each connection to ``limits`` (README "Reliability").

    One timer per connection (``_check``), armed when it opens and re-armed only when it fires (or when
    an idle wait must end sooner), watches the head being read, a body that stops arriving and the wait
    for the next request: nothing is scheduled per request, and a request costs a few attribute updates
    in the callbacks plus one ``loop.time()`` per read. A head may take
    only ``limits.head_bytes`` from the reads after the one it began in, so httptools never holds more
    than that (and one read) of an unfinished header. Refusals (414, 431, 408) are answered at once.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop,
        limits: ConnectionLimits,
        flusher: HeadFlusher,
    ) -> None:
        super().__init__(config=config, server_state=server_state, app_state=app_state, _loop=_loop)
        self._limits = limits
        self._flusher = flusher  # shared by the loop's connections
        self._head_deadline: float | None = None  # set while a request's head is read: when it must be complete
        self._head_left = limits.head_bytes  # bytes that head may still take
        self._heads = 0  # requests begun on this connection
        self._header_bytes = 0
        self._last_read = 0.0
        self._body_clock_stopped = False  # at the last check the host was not reading the body
        self._refused = False
        self._guard: asyncio.TimerHandle | None = None
        self._writer: HeadHoldingWriter | None = None  # what each request's cycle writes through
        self._idle_since: float | None = None  # when the last response completed, while no new data came
        # uvicorn wraps the app in ProxyHeadersMiddleware (an extra coroutine, a trust lookup and a scan
        # of the headers on every request). Only a request that carries X-Forwarded-For or -Proto can be
        # changed by it, so only such a request goes through it (``on_header``, ``on_headers_complete``).
        self._proxied = self.app
        self._direct = self.app.app if isinstance(self.app, ProxyHeadersMiddleware) else self.app
        self._forwarded = False  # this request carries a header the proxy middleware reads

    # --- the connection ----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._writer = HeadHoldingWriter(transport, self._flusher)
        now = self._last_read = self.loop.time()
        self._head_deadline = now + self._limits.header_timeout
        self._guard = self.loop.call_at(self._head_deadline, self._check)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # read and dropped, so that closing does not reset the connection under the answer
        self._last_read = self.loop.time()
        self._unset_keepalive_if_required()
        if self._head_deadline is not None and len(data) > self._head_left:
            allowed = self._head_left  # all the head may still take: it must end within these bytes
            if not self._feed(data[:allowed]):
                return
            if self._head_deadline is not None:
                self._refuse(Refusal.headers_too_large(self._limits))
                return
            data = data[allowed:]
        heads = self._heads
        if self._feed(data) and self._head_deadline is not None and self._heads == heads:
            self._head_left -= len(data)

    def _feed(self, data: bytes) -> bool:
        # uvicorn's data_received, with our own refusals told apart from malformed requests.
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _Refused):
                self._refuse(exc.__context__.refusal)
            else:
                self._invalid()
            return False
        except httptools.HttpParserError:
            self._invalid()
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return False
        return True

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None  # data came (or the connection ends): it is not idle
        if self.timeout_keep_alive_task is not None:  # only a refusal lets uvicorn arm its own timer
            super()._unset_keepalive_if_required()

    def on_response_complete(self) -> None:
        # uvicorn's, except that the wait for the next request is timed by the connection's own timer
        # (``_check``) instead of a timer made and cancelled for every response, which cost about as
        # much as the rest of this method. The connection closes at the same moment either way.
        if self._refused:  # the timer is the refusal's linger now
            super().on_response_complete()
            return
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        now = self._idle_since = self.loop.time()
        deadline = now + self.timeout_keep_alive
        guard = self._guard
        if guard is None or guard.when() > deadline:  # usually it is due sooner, and is left alone
            if guard is not None:
                guard.cancel()
            self._guard = self.loop.call_at(deadline, self._check)

    def _flush(self) -> None:
        # Before the protocol writes to or closes the connection itself: a held head goes first.
        if self._writer is not None:
            self._writer.flush()

    def shutdown(self) -> None:
        self._flush()
        super().shutdown()

    def handle_websocket_upgrade(self) -> None:
        self._flush()
        super().handle_websocket_upgrade()

    def _invalid(self) -> None:
        self._flush()
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    # --- parser callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._heads += 1
        self._head_left = self._limits.head_bytes
        self._header_bytes = 0
        self._body_clock_stopped = False
        self._forwarded = False
        if self._head_deadline is None:  # a connection's first request counts from connecting
            self._head_deadline = self.loop.time() + self._limits.header_timeout

    def on_url(self, url: bytes) -> None:
        self.url += url  # all uvicorn's on_url does
        if len(self.url) > self._limits.max_url_bytes:
            raise _Refused(Refusal.url_too_long(self._limits))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self._limits.max_header_bytes:
            raise _Refused(Refusal.headers_too_large(self._limits))
        # uvicorn's on_header, written out here (a call less per header), plus the proxy headers' flag.
        name = name.lower()
        value = value.rstrip(b" \t")  # llhttp keeps trailing whitespace, which RFC 9110 5.5 excludes
        if name[:12] == b"x-forwarded-":
            if name == b"x-forwarded-for" or name == b"x-forwarded-proto":
                self._forwarded = True
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._head_deadline = None
        self.app = self._proxied if self._forwarded else self._direct
        super().on_headers_complete()
        if self._writer is not None and self.cycle is not None:
            self.cycle.transport = self._writer  # type: ignore[assignment]  # its write, close, is_closing

    # --- refusing and timing out ---------------------------------------------------------------------

    def _refuse(self, refusal: Refusal) -> None:
        self._flush()
        self._refused = True
        self._head_deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # an answer cannot follow a response under way
                self.transport.close()
                return
            cycle.disconnected = True  # what the app sends from now on goes nowhere
            cycle.message_event.set()
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
        logger.warning("refused a request from %s with %d: %s", client, refusal.status, refusal.text)
        self.transport.write(refusal_response(refusal, self.server_state.default_headers))
        if self.transport.can_write_eof():
            self.transport.write_eof()  # a client reading to the end has it all now
        # Closing while the client still sends would reset the connection, and it could lose the answer.
        # So what it sends is read and dropped until it closes (``eof_received``) or LINGER passes.
        if self._guard is not None:
            self._guard.cancel()
        self._guard = self.loop.call_later(LINGER, self.transport.close)

    def _check(self) -> None:
        self._guard = None
        if self.transport.is_closing() or self.transport.get_protocol() is not self:  # closed, or upgraded
            return
        now, timeout = self.loop.time(), self._limits.header_timeout
        cycle = self.cycle
        if self._head_deadline is not None:
            if cycle is not None and not cycle.response_complete:
                # A pipelined request: its client may wait for the response before it sends the rest.
                self._head_deadline = now + timeout
            elif now >= self._head_deadline:
                self._head_timed_out()
                return
            deadline = self._head_deadline
        elif cycle is not None and cycle.more_body and self._body_clock_runs(now):
            if now >= self._last_read + timeout:
                self._body_timed_out()
                return
            deadline = self._last_read + timeout
        else:
            deadline = now + timeout
        idle = self._idle_since
        if idle is not None:  # between requests: closed once idle for the idle timeout, as uvicorn does
            if now >= idle + self.timeout_keep_alive:
                self.timeout_keep_alive_handler()
                return
            deadline = min(deadline, idle + self.timeout_keep_alive)
        self._guard = self.loop.call_at(deadline, self._check)

    def _body_clock_runs(self, now: float) -> bool:
        # While the host does not read (its buffer is full, or the client waits for "100 Continue"), the
        # client is not late; its time starts again at the first check after the host reads again.
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            self._body_clock_stopped = True
            return False
        if self._body_clock_stopped:
            self._body_clock_stopped = False
            self._last_read = now
        return True

    def _head_timed_out(self) -> None:
        if self._heads == 0:  # it never said a word: nothing to answer
            self.transport.close()
        else:
            self._refuse(Refusal.head_too_slow(self._limits))

    def _body_timed_out(self) -> None:
        cycle = self.cycle
        if cycle.response_started:
            self.transport.close()
        else:
            self._refuse(Refusal.body_stalled(self._limits))
