"""One write per response: a response's head goes out together with its body.

uvicorn writes a response's status line and headers to the socket as soon as the app sends
``http.response.start``, and its body at ``http.response.body``: two ``send`` system calls for every
response, each waking the client. On loopback, under load, those calls are the largest single cost of
a request (README "Benchmarks"). ``HeadHoldingWriter`` stands between a request's cycle and its
transport: it keeps a head back until the next write, and writes both at once. A head is never held
longer than the current turn of the event loop (a streamed response whose first chunk takes longer
gets its head then), and anything that writes to or closes the connection another way writes it first.
"""

from __future__ import annotations

import asyncio

__all__ = ["HeadHoldingWriter"]


class HeadHoldingWriter:
    """What a request's cycle writes through: ``write``, ``close`` and ``is_closing`` of ``transport``.

    A write that starts like a response head (``HTTP/``) is held; the next write goes out with it, and
    one scheduled on the loop sends it alone if nothing follows within this turn. Only the order of the
    bytes matters for correctness, and it never changes: everything this writer is given goes out in
    the order given, and ``flush`` runs before any other write to the same transport.
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data[:5] == b"HTTP/":
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def flush(self) -> None:
        """Write what is held, if anything (dropped if the connection is closing: nobody can read it)."""
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()
