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

__all__ = ["HeadFlusher", "HeadHoldingWriter"]


class HeadFlusher:
    """Sends, once per turn of its loop, the heads still held by the writers that held one this turn.

    One scheduled call per turn for every connection of the loop, rather than one per response: under
    load a turn answers many requests, and nearly every held head has gone out with its body by then.
    """

    __slots__ = ("_loop", "_held", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._held: list[HeadHoldingWriter] = []
        self._scheduled = False

    def hold(self, writer: HeadHoldingWriter) -> None:
        self._held.append(writer)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        held, self._held = self._held, []
        for writer in held:
            if writer._held is not None:
                writer.flush()


class HeadHoldingWriter:
    """What a request's cycle writes through: ``write``, ``close`` and ``is_closing`` of ``transport``.

    A write that starts like a response head (``HTTP/``) is held; the next write goes out with it, and
    ``flusher`` sends it alone if nothing follows within this turn. Only the order of the
    bytes matters for correctness, and it never changes: everything this writer is given goes out in
    the order given, and ``flush`` runs before any other write to the same transport.
    """

    __slots__ = ("_transport", "_flusher", "_held")

    def __init__(self, transport: asyncio.Transport, flusher: HeadFlusher) -> None:
        self._transport = transport
        self._flusher = flusher
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data[:5] == b"HTTP/":
            self._held = data
            self._flusher.hold(self)
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
