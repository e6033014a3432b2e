"""Values read as streams, from one snapshot, without letting a reader that stops pin the file's log.

A stream of a large value reads chunk by chunk inside one read transaction, so the chunks are one
version of the value even if it is overwritten meanwhile. But while a read transaction is open, SQLite
can neither copy the write-ahead log past it into the database nor start the log over: every commit
after it makes the ``-wal`` file longer. A client that starts a 25 MiB download and stops reading
would keep that transaction open, and the log would grow with every write for as long as it waits.

So a stream nobody reads for ``STALL_SECONDS`` copies the rest of its value out of the snapshot, into
an anonymous temporary file beside the data (gone when closed, or if the process dies), and ends its
transaction; it goes on from the copy when read again. A fast reader never pays for the copy, and a
stalled one costs at most the rest of one value on disk, not a log without bound. A stream that stays
unread for ``timeout`` seconds is abandoned: its copy is closed and the next read raises
``StorageError``, which ends an HTTP response mid-body.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import IO, Any

from ...errors import StorageError
from .files import connect_reader, is_marked
from .locking import translate_error
from .writer import FileRetired

__all__ = ["CHUNK", "DEFAULT_STREAM_TIMEOUT", "STALL_SECONDS", "Snapshot", "open_snapshot"]

CHUNK = 256 * 1024
STALL_SECONDS = 1.0  # unread this long, a stream copies the rest of its value and ends its transaction
# Unread this long, a stream is abandoned. Generous for a slow client (a 256 KiB chunk must drain to it
# before the next is read), short enough that a stalled one does not hold its copy for long.
DEFAULT_STREAM_TIMEOUT = 60.0
_GET_ROWID = "SELECT id, expiration, metadata, size FROM entries WHERE key = ?"


def open_snapshot(path: Path, key: bytes) -> tuple[sqlite3.Connection, sqlite3.Blob, tuple[Any, ...]] | None:
    """Open a read transaction on a private connection and the value under ``key`` in it (blocking).

    Returns the connection, the value's blob and ``(expiration, metadata, size)``, or None if missing.
    Raises ``FileRetired`` if the file holds a deleted namespace.
    """
    try:
        connection = connect_reader(path)
    except StorageError:
        if not path.exists():
            raise FileRetired(path.name) from None
        raise
    try:
        connection.execute("BEGIN")
        if is_marked(connection):
            raise FileRetired(path.name)
        rows = connection.execute(_GET_ROWID, (key,)).fetchall()
        if not rows:
            _close(connection, None)
            return None
        rowid, expiration, metadata, size = rows[0]
        blob = connection.blobopen("entries", "value", rowid, readonly=True)
    except BaseException as exc:
        _close(connection, None)
        if isinstance(exc, sqlite3.Error):
            if not path.exists():  # unlinked before its first read: "disk I/O error"
                raise FileRetired(path.name) from exc
            raise translate_error(exc) from exc
        raise
    return connection, blob, (expiration, metadata, size)


def _close(connection: sqlite3.Connection, blob: sqlite3.Blob | None) -> None:
    if blob is not None:
        blob.close()
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


class Snapshot(AsyncGenerator[bytes, None]):
    """The chunks of one value, read from one snapshot (``EntryStream.chunks``).

    Args:
        connection, blob: from ``open_snapshot``; this object closes them.
        spill_dir: where a stalled stream copies the rest of its value.
        timeout: seconds unread before the stream is abandoned (at least ``STALL_SECONDS``).
        on_release: called on the event loop once the snapshot's transaction has ended.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        blob: sqlite3.Blob,
        *,
        spill_dir: Path,
        timeout: float,
        on_release: Callable[[], None],
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._connection: sqlite3.Connection | None = connection
        self._blob: sqlite3.Blob | None = blob
        self._copy: IO[bytes] | None = None
        self._spill_dir = spill_dir
        self._timeout = max(timeout, STALL_SECONDS)
        self._on_release: Callable[[], None] | None = on_release
        # Work on a worker thread (a read, or copying the rest): nothing it uses is closed until it is done.
        self._busy: asyncio.Future[Any] | None = None
        self._done = False
        self._failure: StorageError | None = None  # raised by the next read, once
        self._timer: asyncio.TimerHandle | None = None
        self._arm(STALL_SECONDS, self._stalled)

    # --- the async generator protocol ------------------------------------------------------------

    async def asend(self, value: None) -> bytes:
        """The next chunk; raises ``StopAsyncIteration`` after the last, ``StorageError`` once abandoned."""
        self._disarm()
        try:
            if self._busy is not None:  # copying the rest
                await asyncio.wait([self._busy])
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure
            if self._done:
                raise StopAsyncIteration
            chunk: bytes = await asyncio.shield(self._on_thread(self._read))
        except BaseException as exc:
            self._finish()
            if isinstance(exc, sqlite3.Error):
                raise translate_error(exc) from exc
            raise
        if not chunk:
            self._finish()
            raise StopAsyncIteration
        self._arm(STALL_SECONDS, self._stalled)
        return chunk

    async def athrow(self, *error: Any) -> bytes:
        """End the stream and raise ``error`` (an async generator would raise it inside itself)."""
        self._finish()
        raised = error[1] if len(error) > 1 and error[1] is not None else error[0]
        raise raised() if isinstance(raised, type) else raised

    async def aclose(self) -> None:
        """Release the snapshot (or its copy); the stream yields nothing more."""
        self._finish()

    # --- reading, copying, releasing -------------------------------------------------------------

    def _on_thread(self, work: Callable[[], Any]) -> asyncio.Future[Any]:
        busy = self._busy = asyncio.ensure_future(asyncio.to_thread(work))
        busy.add_done_callback(self._idle)
        return busy

    def _idle(self, busy: asyncio.Future[Any]) -> None:
        self._busy = None
        if self._done:
            self._finish()

    def _read(self) -> bytes:
        if self._copy is not None:
            return self._copy.read(CHUNK)
        assert self._blob is not None
        return self._blob.read(CHUNK)

    def _stalled(self) -> None:
        self._timer = None
        if self._blob is not None:
            self._on_thread(self._copy_rest).add_done_callback(self._copied)
        self._arm(self._timeout - STALL_SECONDS, self._abandon)

    def _copy_rest(self) -> IO[bytes]:
        assert self._blob is not None
        copy = tempfile.TemporaryFile(dir=self._spill_dir)
        try:
            while chunk := self._blob.read(CHUNK):
                copy.write(chunk)
            copy.seek(0)
        except BaseException:
            copy.close()
            raise
        return copy

    def _copied(self, copying: asyncio.Future[Any]) -> None:
        error = None if copying.cancelled() else copying.exception()
        if copying.cancelled() or error is not None:  # a full disk: the next read fails, no partial copy
            self._failure = StorageError(f"the value stream failed: copying it out of its snapshot: {error}")
            self._done = True
        else:
            self._copy = copying.result()
        self._release_snapshot()
        if self._done:
            self._close_copy()

    def _abandon(self) -> None:
        self._timer = None
        unread = f"nothing was read from it for {self._timeout:g} s"
        self._failure = StorageError(f"the value stream was abandoned: {unread}")
        self._finish()

    def _finish(self) -> None:
        """End the stream; what a worker thread still uses is released once it is done (``_idle``)."""
        self._done = True
        self._disarm()
        if self._busy is None:
            self._release_snapshot()
            self._close_copy()

    def _release_snapshot(self) -> None:
        connection, blob = self._connection, self._blob
        self._connection = self._blob = None
        if connection is not None:
            _close(connection, blob)
        release, self._on_release = self._on_release, None
        if release is not None:
            release()

    def _close_copy(self) -> None:
        copy, self._copy = self._copy, None
        if copy is not None:
            copy.close()

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self._loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
