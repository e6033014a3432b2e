"""HTTP/1.1 over a bare socket, for requests httpx will not send: a false Content-Length, an endless body."""

from __future__ import annotations

import json
import select
import socket
from typing import Any

CHUNK = b"x" * (1024 * 1024)


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _read_response(sock: socket.socket) -> tuple[int, Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return status, json.loads(body[:length]) if length else None


def send(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, Any]:
    """Send a request whose body may be shorter than it claims, and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_head(method, path, headers) + body)
        return _read_response(sock)


def send_endless(port: int, method: str, path: str, headers: dict[str, str], cap: int) -> tuple[int, Any, int]:
    """Stream a chunked body that never ends until the server answers; returns status, body, bytes sent.

    Fails the test if ``cap`` bytes go out without an answer (the server must refuse on its own).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_head(method, path, {**headers, "Transfer-Encoding": "chunked"}))
        sent = 0
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n"
        while not select.select([sock], [], [], 0)[0]:
            assert sent < cap, f"the server read {sent} bytes without refusing the body"
            try:
                sock.sendall(frame)
            except OSError:
                break  # the server closed its side after answering
            sent += len(CHUNK)
        status, body = _read_response(sock)
        return status, body, sent
