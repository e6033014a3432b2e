"""The listening socket, bound before anything else starts so a taken port is one clear error."""

from __future__ import annotations

import socket

from ..errors import StartupError

__all__ = ["bind"]

_ADDRESS_IN_USE = (48, 98, 10048)  # EADDRINUSE on macOS, Linux, Windows


def bind(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``; raises ``StartupError`` saying why it cannot."""
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
        reason = "the port is already in use" if exc.errno in _ADDRESS_IN_USE else str(exc)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}; pass --port or set WORKERHOST_PORT") from None
    return sock
