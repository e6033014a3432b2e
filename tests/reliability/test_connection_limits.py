"""Connections are bounded, against the real host (``workerhost dev`` in a subprocess) over raw sockets.

- A client that says nothing, or stops halfway through a request's head or body, is closed after the
  header timeout (``--header-timeout``); a kept-alive connection after the idle timeout (``--idle-timeout``).
- A URL over 16 KB gets 414 and headers over 32 KB get 431 (Cloudflare's limits), answered as soon
  as the limit is passed, before the rest is read; other clients are served meanwhile.
- Out of file descriptors, the host backs off from accepting instead of spinning, logs it once, and
  serves again once connections close.

The timeouts are set to 1 s here (by environment variable); no test waits a fixed time for them, each
reads until the host closes the connection.
"""

from __future__ import annotations

import re
import resource
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DevServer, eventually, write_files

from .support import PROBE_PROJECT, RawResponse, _read_response, raw_request, request_bytes

TIMEOUTS = {"WORKERHOST_HEADER_TIMEOUT": "1", "WORKERHOST_IDLE_TIMEOUT": "1"}
WAIT = 15.0  # seconds a socket read may take before the test fails: far above the 1 s timeouts
KB = 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    project = write_files(tmp_path_factory.mktemp("connections"), PROBE_PROJECT)
    server = DevServer(project / "kv.yaml", project / "data", args=("--no-reload",), env=TIMEOUTS).start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: DevServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the host sends until it closes the connection (fails if it does not within WAIT)."""
    data = b""
    while more := sock.recv(65536):
        data += more
    return data


def status_of(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def served(server: DevServer) -> bool:
    """The host answers a request on a connection of its own (the probe's "missing" for a key never stored)."""
    return raw_request(server.port, request_bytes("GET", "/probe/get?key=nothing")).status == 404


# --- timeouts -------------------------------------------------------------------------------------


def test_a_silent_connection_is_closed_after_the_header_timeout(server: DevServer) -> None:
    with connect(server) as sock:
        began = time.monotonic()
        assert read_until_closed(sock) == b""  # closed without a word: the client said nothing either
        assert time.monotonic() - began >= 0.9  # not before the timeout


def test_a_request_head_that_stops_halfway_gets_408_and_is_closed(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /probe/text HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: sent")
        answer = read_until_closed(sock)
    assert status_of(answer) == 408, answer
    assert b"connection: close" in answer.lower()
    assert served(server)


def test_a_request_body_that_stops_halfway_gets_408_and_is_closed(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(request_bytes("POST", "/probe/length", {"Content-Length": "100"}) + b"ten bytes!")
        answer = read_until_closed(sock)
    assert status_of(answer) == 408, answer
    assert served(server)


def test_a_kept_alive_connection_is_closed_after_the_idle_timeout(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(request_bytes("GET", "/probe/get?key=none"))
        assert _read_response(sock).status == 404
        began = time.monotonic()
        assert read_until_closed(sock) == b""
        # The setting (1 s), not uvicorn's own default of 5 s; the margin is for a busy machine.
        assert 0.9 <= time.monotonic() - began < 4.5


# --- sizes ----------------------------------------------------------------------------------------


def send_until_answered(server: DevServer, head: bytes, piece: bytes, cap: int) -> tuple[RawResponse, int]:
    """Send ``head``, then ``piece`` again and again, until the host answers; fails past ``cap`` bytes."""
    with connect(server) as sock:
        sock.sendall(head)
        sent = len(head)
        while not select.select([sock], [], [], 0)[0]:
            assert sent < cap, f"the host read {sent} bytes without answering"
            try:
                sock.sendall(piece)
            except OSError:
                break  # the host answered and closed
            sent += len(piece)
            assert served(server)  # other clients are served meanwhile
        return _read_response(sock), sent


def test_a_url_over_16_kb_gets_414_before_it_is_read_whole(server: DevServer) -> None:
    answer, sent = send_until_answered(server, b"GET /probe/", b"a" * KB, 256 * KB)
    assert answer.status == 414, answer
    assert sent < 20 * KB
    assert "16 KB" in answer.text


def test_a_url_of_16_kb_is_served(server: DevServer) -> None:
    path = "/probe/text?q=" + "k" * (16 * KB - len("/probe/text?q="))
    with connect(server) as sock:
        sock.sendall(request_bytes("GET", path))
        assert _read_response(sock).status == 200


def test_a_64_kib_header_gets_431_before_it_is_read_whole(server: DevServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /probe/text HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 64 * KB)  # no end
        answer = _read_response(sock)
    assert answer.status == 431, answer
    assert "32 KB" in answer.text


def test_a_header_that_never_ends_gets_431_while_other_clients_are_served(server: DevServer) -> None:
    head = b"GET /probe/text HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
    answer, sent = send_until_answered(server, head, b"a" * 4 * KB, 4 * 1024 * KB)
    assert answer.status == 431, answer
    assert sent < 128 * KB


def test_headers_over_32_kb_in_all_get_431_and_under_are_served(server: DevServer) -> None:
    many = {f"X-Header-{n}": "v" * 1000 for n in range(34)}  # 34 headers of about 1 KB
    with connect(server) as sock:
        sock.sendall(request_bytes("GET", "/probe/text", many))
        assert _read_response(sock).status == 431
    fewer = {f"X-Header-{n}": "v" * 1000 for n in range(28)}
    with connect(server) as sock:
        sock.sendall(request_bytes("GET", "/probe/text", fewer))
        assert _read_response(sock).status == 200


# --- out of file descriptors ----------------------------------------------------------------------

DESCRIPTORS = 128  # the host's RLIMIT_NOFILE in this test: a few dozen go to its own files
IDLE_CLIENTS = 200


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime and stime, in clock ticks of 1/100 s


def lower_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_out_of_descriptors_the_host_backs_off_logs_once_and_serves_again(tmp_path: Path) -> None:
    project = write_files(tmp_path, PROBE_PROJECT)
    # Connections stay until the clients close them: the header timeout is far away.
    env = {"WORKERHOST_HEADER_TIMEOUT": "600"}
    server = DevServer(
        project / "kv.yaml", project / "data", args=("--no-reload",), env=env, preexec_fn=lower_descriptor_limit
    )
    server.start()
    assert server.process is not None
    try:
        clients = [connect(server) for _ in range(IDLE_CLIENTS)]  # the kernel queues what is not accepted
        try:
            eventually(lambda: "out of file descriptors" in server.stderr(), what="the host to report it")
            began, cpu = time.monotonic(), cpu_seconds(server.process.pid)
            time.sleep(2)  # a window to measure CPU in, not a wait for anything to happen
            share = (cpu_seconds(server.process.pid) - cpu) / (time.monotonic() - began)
            assert share < 0.2, f"the host used {share:.0%} of a core while out of descriptors"
        finally:
            for client in clients:
                client.close()
        eventually(lambda: served(server), what="the host to serve once the connections closed")
        assert len(re.findall("out of file descriptors", server.stderr())) == 1, server.stderr()
    finally:
        server.stop()
