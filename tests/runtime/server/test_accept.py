"""Accepting connections in bursts (runtime.server.accept) on real loopback sockets."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest

from runtime.server.accept import MAX_PER_TURN, Acceptor

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder(asyncio.Protocol):
    made: list[asyncio.Transport]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        Recorder.made.append(transport)


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    return sock


def _clients(sock: socket.socket, count: int) -> list[socket.socket]:
    # The kernel completes each handshake at once; the connections then wait to be accepted.
    return [socket.create_connection(sock.getsockname()) for _ in range(count)]


async def test_a_burst_is_accepted_a_batch_per_turn_not_one_per_turn() -> None:
    Recorder.made = []
    listener = _listener()
    clients = _clients(listener, MAX_PER_TURN + 8)
    acceptor = Acceptor(listener, Recorder)
    try:
        acceptor._accept()  # one readable event of the listening socket
        assert len(acceptor._pending) == MAX_PER_TURN
        acceptor._accept()
        assert len(acceptor._pending) == MAX_PER_TURN + 8
        await acceptor.wait_closed()
        assert len(Recorder.made) == MAX_PER_TURN + 8
        for transport in Recorder.made:
            sock = transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)  # responses go out at once
    finally:
        acceptor.close()
        for transport in Recorder.made:
            transport.close()
        for client in clients:
            client.close()
        listener.close()


async def test_after_close_nothing_more_is_accepted() -> None:
    Recorder.made = []
    listener = _listener()
    acceptor = Acceptor(listener, Recorder)
    acceptor.close()
    acceptor.close()  # twice is fine
    clients = _clients(listener, 3)
    try:
        for _ in range(5):
            await asyncio.sleep(0.01)  # turns of the loop in which a reader would have run
        assert Recorder.made == []
        await acceptor.wait_closed()
    finally:
        for client in clients:
            client.close()
        listener.close()


class Exhausted(socket.socket):
    """A listening socket whose accept fails as it does when the process is out of descriptors, until told."""

    exhausted = True
    attempts = 0

    def accept(self) -> tuple[socket.socket, object]:
        self.attempts += 1
        if self.exhausted:
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


def _exhausted_listener() -> Exhausted:
    sock = Exhausted()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    return sock


async def test_out_of_descriptors_it_backs_off_instead_of_retrying_every_turn(caplog: pytest.LogCaptureFixture) -> None:
    Recorder.made = []
    listener = _exhausted_listener()
    clients = _clients(listener, 3)  # waiting to be accepted: the socket stays readable
    acceptor = Acceptor(listener, Recorder)
    try:
        await asyncio.sleep(0.3)  # a window in which a loop retrying every turn would try thousands of times
        assert 1 <= listener.attempts < 15  # 5 ms, doubling: a handful of tries
        assert Recorder.made == []
        listener.exhausted = False  # descriptors are free again
        for _ in range(400):
            if len(Recorder.made) == 3:
                break
            await asyncio.sleep(0.005)
        assert len(Recorder.made) == 3  # the connections waited, and are served now
        warnings = [record for record in caplog.records if "cannot accept connections" in record.getMessage()]
        assert len(warnings) == 1, warnings
        assert "out of file descriptors" in warnings[0].getMessage()
    finally:
        acceptor.close()
        for transport in Recorder.made:
            transport.close()
        for client in clients:
            client.close()
        listener.close()


async def test_closing_while_backing_off_stops_the_retries() -> None:
    Recorder.made = []
    listener = _exhausted_listener()
    clients = _clients(listener, 1)
    acceptor = Acceptor(listener, Recorder)
    try:
        while listener.attempts == 0:
            await asyncio.sleep(0.001)
        acceptor.close()
        listener.exhausted = False
        attempts = listener.attempts
        await asyncio.sleep(0.1)  # longer than the back-off: a retry would have come
        assert listener.attempts == attempts and Recorder.made == []
    finally:
        for client in clients:
            client.close()
        listener.close()
