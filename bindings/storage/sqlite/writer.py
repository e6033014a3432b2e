"""Group commit: a thread per namespace file applies its writes, committing the pending ones together.

Why a thread: a durable commit waits for fsync, which must never happen on the event loop. Why one
commit for many writes: the fsync is the expensive part, and writes that queue up while one commit
is in flight can share the next one. No write is acknowledged before the commit that holds it has
returned, so a kill -9 at any moment loses only writes nobody was told about.

Why a thread per file: a file whose write lock another process holds (a ``sqlite3`` shell inside a
transaction) stalls only its own writes; every other namespace, and the catalog, go on. Each write
waits for the lock at most ``lock_timeout`` seconds from when it was submitted, then fails alone with
``StorageLockedError``. The thread ends once its file has been idle for ``IDLE_SECONDS``, closing its
connection, and starts again with the next write.

A failure inside a shared commit (a full disk, a constraint) rolls the whole batch back; the writes
are then retried one commit each, so only the write that fails reports an error.

Every transaction first looks for the file's tombstone (``files.is_marked``), inside the transaction,
under the write lock. A namespace being deleted has one, so a write either committed before the delete
began, or finds it: then every write waiting here fails with ``FileRetired``, the thread ends, and the
namespace's storage looks the namespace up again (``namespace``). The same happens if the file is gone.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ...errors import StorageError, StorageFullError
from .files import connect_writer, is_marked, upgrade_namespace_file
from .locking import begin_immediate, locked_error, translate_error

__all__ = ["IDLE_SECONDS", "FileRetired", "FileWriter"]

Work = Callable[[sqlite3.Connection], Any]
Setup = Callable[[sqlite3.Connection], None]

IDLE_SECONDS = 10.0  # a writer thread with nothing to do for this long ends and closes its connection
_MAX_BATCH = 1024  # writes per commit; bounds how long one commit holds the file lock
_STOP = object()


class FileRetired(Exception):
    """The file holds a deleted namespace (its tombstone was found), or is gone: look the namespace up again."""


class _Job:
    """A write: ``work`` runs inside the file's next transaction; ``future`` (if any) gets its result."""

    __slots__ = ("work", "loop", "future", "deadline")

    def __init__(
        self, work: Work, loop: asyncio.AbstractEventLoop | None, future: asyncio.Future[Any] | None, deadline: float
    ) -> None:
        self.work = work
        self.loop = loop
        self.future = future
        self.deadline = deadline


class _Setup:
    """A control job: apply ``setup`` to the open connection, between commits."""

    __slots__ = ("setup", "loop", "future")

    def __init__(self, setup: Setup, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.setup = setup
        self.loop = loop
        self.future = future


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


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _settle(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


class FileWriter:
    """Runs the write jobs of one namespace file on a thread of its own, grouping queued jobs into one transaction.

    Args:
        path: the namespace file.
        subject: how errors name the file ("namespace <id>").
        lock_timeout: seconds a write may wait for the file's write lock.
        setup: the current connection setup (the page cap), applied to each connection once opened.
        on_retired: called (on this thread) when the file turns out deleted or gone.
    """

    def __init__(
        self,
        path: Path,
        *,
        subject: str,
        lock_timeout: float,
        setup: Callable[[], Setup | None],
        on_retired: Callable[[], None],
    ) -> None:
        self.path = path
        self._subject = subject
        self._lock_timeout = lock_timeout
        self._current_setup = setup
        self._on_retired = on_retired
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False  # a thread is serving the queue
        self._closed = False  # stopped or retired: no job is taken any more
        self._retired = False  # the file is deleted or gone: queued jobs fail too
        self._thread: threading.Thread | None = None
        self._connection: sqlite3.Connection | None = None
        self._upgraded = False  # the connection's file is known to have the current schema
        self._waiting: list[asyncio.Future[None]] = []  # for the thread to end (``stopped``)

    def submit(self, work: Work) -> asyncio.Future[Any]:
        """Queue ``work``; the future resolves with its result after the commit. Raises ``FileRetired`` once closed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(work, loop, future, time.monotonic() + self._lock_timeout))
        return future

    def submit_nowait(self, work: Work) -> None:
        """Queue ``work`` with nobody waiting for it (lazy expiry clean-up); dropped if the writer is closed."""
        try:
            self._put(_Job(work, None, None, time.monotonic() + self._lock_timeout))
        except FileRetired:
            pass

    def configure(self, setup: Setup) -> asyncio.Future[Any] | None:
        """Apply ``setup`` to the open connection once the writes queued before it are done; None if none is open."""
        if not self._running:
            return None  # a connection opened later takes the store's current setup
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        try:
            self._put(_Setup(setup, loop, future))
        except FileRetired:
            return None
        return future

    def stop(self) -> None:
        """Take no more jobs; the thread applies what is queued, closes its connection and ends. Does not wait."""
        with self._lock:
            self._closed = True
            if self._running:
                self._queue.put(_STOP)

    @property
    def running(self) -> bool:
        """A thread is serving this file (writing, or idle less than ``IDLE_SECONDS``): its connection may be open."""
        return self._running

    async def stopped(self) -> None:
        """Wait, on the event loop, for the thread to end (after ``stop``), its connection closed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if not self._running:
                return
            self._waiting.append(future)
        await future

    def join(self) -> None:
        """Wait for the thread to end (after ``stop``), its connection closed. Blocks: call it off the event loop."""
        thread = self._thread
        if thread is not None:
            thread.join()

    def _put(self, job: _Job | _Setup) -> None:
        if self._closed:
            raise FileRetired(self.path.name)
        self._queue.put(job)
        if self._running:
            return
        with self._lock:
            if self._closed:
                self._fail_queued()  # slipped in after the thread ended
            elif not self._running:
                self._running = True
                name = f"workerhost-kv-writer {self.path.name}"
                self._thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._thread.start()

    # --- the writer thread -----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._serve():
                pass
        except BaseException:
            with self._lock:  # not expected: end as an idle thread would, so the next write starts anew
                self._close_connection()
                self._running = False
            raise
        finally:
            self._wake_waiting()

    def _wake_waiting(self) -> None:
        # Whoever called ``stopped`` while _running was True is woken here, after _running went False.
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for future in waiting:
            try:
                future.get_loop().call_soon_threadsafe(_wake, future)
            except RuntimeError:
                pass  # the waiter's loop is gone

    def _serve(self) -> bool:
        """Take and apply one batch; False once the thread should end."""
        try:
            first = self._queue.get(timeout=IDLE_SECONDS)
        except queue.Empty:
            return self._keep_running()
        batch = [first]
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        stop = _STOP in batch
        self._apply([job for job in batch if job is not _STOP])
        if stop or self._closed:
            with self._lock:
                self._close_connection()
                self._running = False
                self._fail_queued()
            return False
        return True

    def _keep_running(self) -> bool:
        # The connection closes while _running is still True, so no new thread can start and find it
        # half closed. Then _running goes False before the queue is looked at, with the lock held: a
        # job put meanwhile is either seen here or starts a new thread (see _put).
        with self._lock:
            if not self._queue.empty():
                return True
            self._close_connection()
            self._running = False
            if self._queue.empty():
                return False
            self._running = True
            return True

    def _fail_queued(self) -> None:
        jobs = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP:
                jobs.append(job)
        self._notify(jobs, None, FileRetired(self.path.name))

    def _apply(self, batch: list[_Job | _Setup]) -> None:
        # Keep the jobs in submission order; a setup job runs in its place, between commits.
        pending: list[_Job] = []
        for job in batch:
            if isinstance(job, _Job):
                pending.append(job)
                continue
            if pending:
                self._commit(pending)
                pending = []
            self._apply_setup(job)
        if pending:
            self._commit(pending)

    def _apply_setup(self, job: _Setup) -> None:
        error: BaseException | None = None
        if self._connection is not None:
            try:
                job.setup(self._connection)
            except Exception as exc:  # reported to the caller
                error = translate_error(exc, self._subject)
        self._notify([job], [None], error)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                connection = connect_writer(self.path, self._lock_timeout)
            except StorageError:
                if not self.path.exists():
                    raise FileRetired(self.path.name) from None
                raise
            try:
                setup = self._current_setup()
                if setup is not None:
                    setup(connection)
            except BaseException:
                connection.close()
                raise
            self._connection, self._upgraded = connection, False
        return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _commit(self, jobs: list[_Job]) -> None:
        if self._retired:
            self._notify(jobs, None, FileRetired(self.path.name))
            return
        try:
            connection = self._connect()
            jobs = self._begin(connection, jobs)
            if not jobs:
                return
            try:
                if not self._upgraded:
                    upgrade_namespace_file(connection)
                if is_marked(connection):
                    raise FileRetired(self.path.name)
                results = [_own(job.work(connection)) for job in jobs]
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            self._upgraded = True
        except FileRetired as retired:
            self._retire(jobs, retired)
            return
        except Exception as exc:  # every failure is reported to its waiter
            if isinstance(exc, sqlite3.Error) and not self.path.exists():
                self._retire(jobs, FileRetired(self.path.name))  # unlinked under a fresh connection
                return
            if len(jobs) > 1:
                for job in jobs:  # find the culprit: one commit per write
                    self._commit([job])
                return
            error = translate_error(exc, self._subject, self._lock_timeout)
            if isinstance(exc, sqlite3.Error) and not isinstance(error, StorageFullError):
                self._close_connection()  # a broken connection is reopened next time
            self._notify(jobs, None, error)
            return
        self._notify(jobs, results, None)

    def _begin(self, connection: sqlite3.Connection, jobs: list[_Job]) -> list[_Job]:
        """Take the file's write lock; the jobs whose deadline passed first fail. Returns the jobs still waiting."""
        while not begin_immediate(connection, min(job.deadline for job in jobs)):
            now = time.monotonic()
            late = [job for job in jobs if job.deadline <= now]
            self._notify(late, None, locked_error(self._subject, self._lock_timeout))
            jobs = [job for job in jobs if job.deadline > now]
            if not jobs:
                return []
        return jobs

    def _retire(self, jobs: list[_Job], retired: FileRetired) -> None:
        with self._lock:
            self._closed = self._retired = True
        self._close_connection()
        self._on_retired()
        self._notify(jobs, None, retired)

    def _notify(self, jobs: Sequence[_Job | _Setup], results: list[Any] | None, error: BaseException | None) -> None:
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
