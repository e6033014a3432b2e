"""Group commit: one thread applies every write of a store, committing each file's pending writes together.

Why a thread: a durable commit waits for fsync, which must never happen on the event loop. Why one
commit for many writes: the fsync is the expensive part, and writes that queue up while one commit
is in flight can share the next one. No write is acknowledged before the commit that holds it has
returned, so a kill -9 at any moment loses only writes nobody was told about.

A failure inside a shared commit (a full disk, a constraint) rolls the whole batch back; the writes
are then retried one commit each, so only the write that fails reports an error.

Connection settings that may change while the store runs (the page cap used to test a full disk)
are applied on the writer thread too, between commits, to every open connection and each new one.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ...errors import StorageError, StorageFullError

__all__ = ["GroupCommitWriter", "translate_error"]

Work = Callable[[sqlite3.Connection], Any]
Connect = Callable[[Path], sqlite3.Connection]
Setup = Callable[[sqlite3.Connection], None]

_MAX_BATCH = 1024  # writes per commit; bounds how long one commit holds the file lock
_STOP = object()


class _Setup:
    """A control job: apply ``setup`` to every writer connection, open or opened later."""

    __slots__ = ("setup", "loop", "future")

    def __init__(self, setup: Setup, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.setup = setup
        self.loop = loop
        self.future = future


class _Forget:
    """A control job: close the connection to ``path`` (its namespace was deleted)."""

    __slots__ = ("path", "loop", "future")

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.path = path
        self.loop = loop
        self.future = future


class _Job:
    """A write: ``work`` runs inside the file's next transaction; ``future`` (if any) gets its result."""

    __slots__ = ("path", "work", "loop", "future")

    def __init__(
        self, path: Path, work: Work, loop: asyncio.AbstractEventLoop | None, future: asyncio.Future[Any] | None
    ) -> None:
        self.path = path
        self.work = work
        self.loop = loop
        self.future = future


def translate_error(exc: BaseException) -> BaseException:
    """Turn sqlite3 errors into the store's own, keeping anything else as it is."""
    if isinstance(exc, sqlite3.Error):
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            error: StorageError = StorageFullError(f"the store is full; the write was not applied ({exc})")
        else:
            error = StorageError(f"storage failure: {exc}")
        error.__cause__ = exc  # its traceback shows where, even from the writer thread
        return error
    return exc


def _own(result: Any) -> Any:
    """A job's result, safe to hand to another thread.

    A cursor still holds one of the connection's cached statements (``executemany`` keeps it), and
    dropping it resets that statement; done on the event loop while this thread runs the same statement
    for another write, the two threads race on it and a write fails with "bad parameter or other API
    misuse". Closing the cursor here releases the statement on this thread.
    """
    if isinstance(result, sqlite3.Cursor):
        result.close()
    return result


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class GroupCommitWriter:
    """Runs write jobs on one thread, grouping queued jobs for the same file into one transaction.

    Args:
        connect: opens a writer connection for a database file (pragmas applied).
        setup: applied to each connection once opened (see ``configure``).
    """

    def __init__(self, connect: Connect, setup: Setup | None = None) -> None:
        self._connect_file = connect
        self._setup = setup
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._connections: dict[Path, sqlite3.Connection] = {}
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def submit(self, path: Path, work: Work) -> asyncio.Future[Any]:
        """Queue ``work`` for ``path``; the future resolves with its result after the commit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(path, work, loop, future))
        return future

    def submit_nowait(self, path: Path, work: Work) -> None:
        """Queue ``work`` with nobody waiting for it (lazy expiry clean-up)."""
        self._put(_Job(path, work, None, None))

    def forget(self, path: Path) -> asyncio.Future[Any]:
        """Close the connection to ``path`` once the writes queued before this call are done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Forget(path, loop, future))
        return future

    def configure(self, setup: Setup) -> asyncio.Future[Any]:
        """Apply ``setup`` to every connection, open or future, once the writes queued before it are done."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Setup(setup, loop, future))
        return future

    def _put(self, job: _Job | _Setup | _Forget) -> None:
        if self._closed:
            raise StorageError("the store is closed")
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="workerhost-kv-writer", daemon=True)
                    self._thread.start()
        self._queue.put(job)

    def close(self) -> None:
        """Apply everything queued so far, then stop the thread and close its connections."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    # --- the writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is _STOP or _STOP in batch:
                stop = True
                batch = [job for job in batch if job is not _STOP]
            self._apply(batch)
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _apply(self, batch: list[_Job | _Setup | _Forget]) -> None:
        # Keep each file's jobs in submission order; a control job (close a file, change a setting)
        # runs in its place, after the writes queued before it.
        groups: list[list[_Job]] = []
        by_path: dict[Path, list[_Job]] = {}
        for job in batch:
            if not isinstance(job, _Job):
                for pending in groups:
                    self._commit(pending)
                groups, by_path = [], {}
                self._control(job)
                continue
            group = by_path.get(job.path)
            if group is None:
                group = by_path[job.path] = []
                groups.append(group)
            group.append(job)
        for group in groups:
            self._commit(group)

    def _control(self, job: _Setup | _Forget) -> None:
        if isinstance(job, _Setup):
            self._apply_setup(job)
        else:
            self._close_connection(job.path)
            self._notify([job], [None], None)

    def _apply_setup(self, job: _Setup) -> None:
        self._setup = job.setup
        error: BaseException | None = None
        for connection in self._connections.values():
            try:
                job.setup(connection)
            except Exception as exc:  # reported to the caller; the other connections still get it
                error = translate_error(exc)
        outcome = [(job.future, None, error)]
        try:
            job.loop.call_soon_threadsafe(_settle, outcome)
        except RuntimeError:
            pass  # the caller's loop is gone

    def _connect(self, path: Path) -> sqlite3.Connection:
        connection = self._connect_file(path)
        if self._setup is not None:
            try:
                self._setup(connection)
            except BaseException:
                connection.close()
                raise
        return connection

    def _close_connection(self, path: Path) -> None:
        connection = self._connections.pop(path, None)
        if connection is not None:
            connection.close()

    def _commit(self, jobs: list[_Job]) -> None:
        try:
            connection = self._connections.get(jobs[0].path)
            if connection is None:
                connection = self._connections[jobs[0].path] = self._connect(jobs[0].path)
            connection.execute("BEGIN IMMEDIATE")
            try:
                results = [_own(job.work(connection)) for job in jobs]
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except Exception as exc:  # every failure is reported to its waiter
            if len(jobs) > 1:
                for job in jobs:  # find the culprit: one commit per write
                    self._commit([job])
                return
            error = translate_error(exc)
            if isinstance(exc, sqlite3.Error) and not isinstance(error, StorageFullError):
                self._close_connection(jobs[0].path)  # a broken connection is reopened next time
            self._notify(jobs, None, error)
            return
        self._notify(jobs, results, None)

    def _notify(self, jobs: Sequence[_Job | _Forget], results: list[Any] | None, error: BaseException | None) -> None:
        outcomes: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        for index, job in enumerate(jobs):
            if job.loop is None or job.future is None:
                continue
            result = None if results is None else results[index]
            outcomes.setdefault(job.loop, []).append((job.future, result, error))
        for loop, items in outcomes.items():
            try:
                loop.call_soon_threadsafe(_settle, items)
            except RuntimeError:
                pass  # the waiter's loop is gone; the write itself is committed
