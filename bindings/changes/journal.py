"""The change journal: a file of JSON lines beside the SQLite data that every process appends its writes to.

A host learns of its own writes as they happen; writes by other processes (``workerhost kv``, a
second host on the same files, the other processes of ``--workers N``) reach it through this file,
which it tails while someone watches the feed. It is a view, not a record: nothing is synced,
lines may be lost in a crash, and a write never waits for it or fails because of it.

* **Appending.** Each process batches its lines and writes them with one ``write`` on a descriptor
  opened with ``O_APPEND``, so lines of several processes never interleave.
* **Size.** Past ``MAX_BYTES`` the file is renamed to ``changes.jsonl.1`` (replacing the one
  before) and a new one begun. Whoever notices first renames it, under an ``flock`` of the old
  file so that two processes never both do; the others find a new file under the name and follow.
* **Tailing.** A reader starts at the end and reads what is added. When the name points at a new
  file it reads the old one to its end, then the new one from its start. A line another process is
  still writing (no newline yet) waits for the next read.
* **Only while watched.** A line is worth writing only if a reader is following, since a reader
  starts at the end. Each reader holds a shared ``flock`` on ``changes.watch`` beside the journal
  from before it looks for the end until it closes, and the kernel drops it with the process. A
  writer asks once per batch (``watched``) whether anyone holds one; when nobody does, the lines are
  dropped unwritten, so a host with no dashboard open pays next to nothing per write. A line recorded before
  a reader starts is one it would have skipped anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

__all__ = ["JOURNAL_NAME", "MAX_BYTES", "WATCH_NAME", "FileJournal", "JournalReader"]

logger = logging.getLogger("workerhost.kv")

JOURNAL_NAME = "changes.jsonl"
WATCH_NAME = "changes.watch"  # readers hold a shared lock on it (see "Only while watched")
MAX_BYTES = 1024 * 1024  # about 5,000 events: far more than a reader polling every 0.1 s ever falls behind
_READ_LIMIT = 4 * MAX_BYTES  # bytes one read takes at most (a reader far behind skips the rest)


class FileJournal:
    """Appends lines to the journal at ``path`` (created, with its folder, on the first append)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._fd: int | None = None
        self._inode: int | None = None
        self._failed = False

    def __repr__(self) -> str:
        return f"FileJournal({str(self.path)!r})"

    def watched(self) -> bool:
        """Whether a reader, in any process, follows the journal now (holds its shared lock)."""
        try:
            fd = os.open(self.path.with_name(WATCH_NAME), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False  # no reader ever started here
        except OSError:
            return True  # cannot tell: write, as if someone were
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError: a reader holds it (any other error: cannot tell, so write)
            return True
        else:
            return False  # closing the descriptor below lets the lock go
        finally:
            os.close(fd)

    def append(self, data: bytes) -> None:
        """Write ``data`` (whole lines); a failure is logged once and the lines dropped."""
        try:
            fd = self._current()
            os.write(fd, data)
            if os.lseek(fd, 0, os.SEEK_CUR) >= self.max_bytes:
                self._rotate(fd)
        except OSError as exc:
            if not self._failed:
                logger.warning(
                    "the KV change journal %s cannot be written (%s); the live feed misses writes", self.path, exc
                )
            self._failed = True
            self.close()

    def _current(self) -> int:
        """The descriptor of the file now under the name, reopened if another process renamed it away."""
        fd = self._fd
        if fd is not None:
            try:
                if os.stat(self.path).st_ino == self._inode:
                    return fd
            except FileNotFoundError:
                pass
            self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._fd, self._inode = fd, os.fstat(fd).st_ino
        return fd

    def _rotate(self, fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_ino == self._inode:  # nobody rotated it meanwhile
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self.close()

    def close(self) -> None:
        """Close the descriptor; the next append opens the file again."""
        if self._fd is not None:
            fd, self._fd, self._inode = self._fd, None, None
            os.close(fd)

    def reader(self) -> JournalReader:
        """A reader of what is appended from now on."""
        return JournalReader(self.path)


class JournalReader:
    """Reads the lines appended to the journal since it was made (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: int | None = None
        self._inode: int | None = None
        self._partial = b""
        self._watch = _hold_watch(path.with_name(WATCH_NAME))  # before the end is found: see the docstring
        self._open(at_end=True)

    def _open(self, *, at_end: bool) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        self._file, self._inode = fd, os.fstat(fd).st_ino
        if at_end:
            os.lseek(fd, 0, os.SEEK_END)

    def read(self) -> list[bytes]:
        """The whole lines appended since the last read, in order."""
        lines = self._drain()
        try:
            inode: int | None = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if inode is not None and inode != self._inode:
            self._close()
            self._partial = b""
            self._open(at_end=False)
            lines += self._drain()
        return lines

    def _drain(self) -> list[bytes]:
        fd = self._file
        if fd is None:
            return []
        chunks = [self._partial]
        taken = 0
        while taken < _READ_LIMIT and (chunk := os.read(fd, 256 * 1024)):
            chunks.append(chunk)
            taken += len(chunk)
        if taken >= _READ_LIMIT:
            os.lseek(fd, 0, os.SEEK_END)  # too far behind: what is left is skipped, not piled up
        data = b"".join(chunks)
        complete, _, self._partial = data.rpartition(b"\n")
        return complete.split(b"\n") if complete else []

    def _close(self) -> None:
        if self._file is not None:
            fd, self._file = self._file, None
            os.close(fd)

    def close(self) -> None:
        """Stop reading, and let writers know (unless another reader still follows)."""
        self._close()
        if self._watch is not None:
            fd, self._watch = self._watch, None
            os.close(fd)


def _hold_watch(path: Path) -> int | None:
    """A descriptor of ``path`` holding a shared lock on it, or None if the folder cannot take one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        logger.warning("the KV change journal cannot be followed (%s); the live feed misses other processes", exc)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # a writer holds its exclusive probe for two system calls at most
    except OSError:
        os.close(fd)
        return None
    return fd
