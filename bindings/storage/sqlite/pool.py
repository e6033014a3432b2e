"""The namespace files this process has open: a bounded pool, the least recently used closed first.

An open namespace file costs descriptors (a read connection and the writer's, each with the database and
its log, plus the ``-shm`` file SQLite shares between them), a writer thread while it writes, and memory
up to the read cache's bound. An account may have a thousand namespaces; holding them all open would take
thousands of descriptors. So at most ``capacity`` files stay open. When another one opens, the least
recently used of those nobody is using (no write waiting for its commit, no stream, no read on a worker
thread) is closed; its namespace opens again, by its catalog entry, when next used. The capacity comes
from the process's descriptor limit: the pool takes at most a quarter of it.

A closed file's descriptors are not all gone at once: its writer thread closes its connection when it
next runs (closing a file's last connection copies its log into it and syncs, which must not happen on
the event loop), and until then SQLite keeps the descriptors of the file's closed read connections too
(closing one would drop the locks the writer's connection holds on the file). On a busy machine that
thread may not run for a while, and meanwhile any number of files could be closed. So a file counts
against the capacity until its writer has ended, and a file opens only once there is room
(``make_room``): the descriptors stay within the budget however late the threads run.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

from .readers import NamespaceReaders
from .writer import FileWriter, Setup

__all__ = ["FDS_PER_FILE", "FilePool", "OpenFile", "default_capacity"]

FDS_PER_FILE = 8  # two connections of two descriptors each, the shared -shm, a spare reader, some slack
_MIN_CAPACITY, _MAX_CAPACITY = 4, 128
_TICKS = itertools.count(1)  # when each file was last used, in order: a counter costs no system call


def default_capacity() -> int:
    """How many namespace files a store keeps open: a quarter of the descriptor limit, within bounds."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no such limit here
        return 64
    if soft == resource.RLIM_INFINITY:
        return _MAX_CAPACITY
    return max(_MIN_CAPACITY, min(_MAX_CAPACITY, soft // 4 // FDS_PER_FILE))


class OpenFile:
    """One namespace file while this process has it open: its readers, its writer, and who is using it.

    ``live`` turns False once it is closed, or once its writer found it deleted; its namespace's storage
    then opens the namespace again. ``users`` counts the operations that hold it across an ``await``.
    """

    __slots__ = ("namespace_id", "generation", "path", "readers", "writer", "live", "users", "used")

    def __init__(
        self,
        namespace_id: str,
        generation: int,
        path: Path,
        *,
        read_cache: bool,
        lock_timeout: float,
        setup: Callable[[], Setup | None],
    ) -> None:
        self.namespace_id = namespace_id
        self.generation = generation
        self.path = path
        self.readers = NamespaceReaders(path, cache=read_cache)
        self.writer = FileWriter(
            path, subject=f"namespace {namespace_id}", lock_timeout=lock_timeout, setup=setup, on_retired=self._retired
        )
        self.live = True
        self.users = 0
        self.used = next(_TICKS)

    def __repr__(self) -> str:
        return f"OpenFile({self.path.name!r}, live={self.live}, users={self.users})"

    def _retired(self) -> None:
        self.live = False  # from the writer thread; the pool closes the rest on the event loop

    def touch(self) -> None:
        self.used = next(_TICKS)

    def close(self) -> None:
        """Close the readers and let the writer finish what is queued and end (without waiting for it)."""
        self.live = False
        self.readers.close()
        self.writer.stop()


class FilePool:
    """At most ``capacity`` open namespace files (more only while all of them are in use), by namespace id.

    A closed file whose writer thread has not ended yet still counts (``make_room``).
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._files: dict[str, OpenFile] = {}
        self._stopping: list[FileWriter] = []  # writers of closed files, maybe still finishing

    def get(self, namespace_id: str) -> OpenFile | None:
        return self._files.get(namespace_id)

    async def make_room(self) -> None:
        """Wait until one more file can open within ``capacity``, counting closed files whose writer has not ended.

        Closes the least recently used idle files as needed and waits for their writers; if every open
        file is in use, returns anyway (the pool then shrinks back as they are released).
        """
        while True:
            self._stopping = [writer for writer in self._stopping if writer.running]
            if len(self._files) + len(self._stopping) < self.capacity:
                return
            idle = [file for file in self._files.values() if file.users == 0]
            if len(self._files) >= self.capacity and idle:
                self.discard(min(idle, key=lambda file: file.used))
            elif self._stopping:
                await asyncio.gather(*(writer.stopped() for writer in self._stopping))
            else:
                return

    def add(self, file: OpenFile) -> None:
        """Hold ``file`` open (replacing the namespace's previous one), closing the least recently used if full."""
        previous = self._files.get(file.namespace_id)
        if previous is not None:
            self.discard(previous)
        self._files[file.namespace_id] = file
        self.trim(keep=file)

    def discard(self, file: OpenFile) -> None:
        """Close ``file`` and forget it."""
        if self._files.get(file.namespace_id) is file:
            del self._files[file.namespace_id]
        file.close()
        self._stopping = [writer for writer in self._stopping if writer.running]
        self._stopping.append(file.writer)

    def release(self, file: OpenFile) -> None:
        """An operation that used ``file`` across an await is done with it."""
        file.users -= 1
        if len(self._files) > self.capacity:
            self.trim()

    def trim(self, keep: OpenFile | None = None) -> None:
        """Close the least recently used idle files (but ``keep``) until at most ``capacity`` are open."""
        while len(self._files) > self.capacity:
            idle = [file for file in self._files.values() if file.users == 0 and file is not keep]
            if not idle:
                return  # all in use: the pool shrinks back as they are released
            self.discard(min(idle, key=lambda file: file.used))

    def files(self) -> list[OpenFile]:
        return list(self._files.values())

    def close(self) -> list[FileWriter]:
        """Close every file; returns the writers to wait for (``FileWriter.join``)."""
        for file in list(self._files.values()):
            self.discard(file)
        writers, self._stopping = self._stopping, []
        return writers
