"""Noticing commits to a WAL-mode SQLite file without a query: read the header of its WAL index.

The read cache (``sqlite_cache``) must know, before every read, whether anything has committed to the
file since it last looked. ``PRAGMA data_version`` answers, but as a statement: it opens a read
transaction, which costs two ``fcntl`` lock calls and an ``fstat``. Measured under load, that check was
about a fifth of the CPU time of a request reading one cached key.

SQLite itself answers the same question from shared memory. In WAL mode every connection maps the
``-shm`` file, whose first 96 bytes are two copies of the WAL-index header
(https://www.sqlite.org/walformat.html#the_wal_index_header). Each commit rewrites both, and the
header's change counter goes up by one on every rewrite, so two equal readings mean no commit came
between them. SQLite's writer updates the second copy first, then the first; a reader that finds
the two equal and the checksum right has a consistent header. We do exactly that, from a read-only
mapping of the same file: no lock, no system call.

One hazard makes the lifetime below matter. POSIX record locks belong to the process, and closing
*any* descriptor of a file releases all of them, including the locks SQLite holds on the ``-shm``
file through its own descriptor. So the descriptor here is opened only while a connection of ours
holds the file open (so the ``-shm`` file exists and cannot be replaced: SQLite deletes or
re-initialises it only when no connection has it open), and is closed only after every connection of
this process to the file has closed (``SqliteStore`` orders that).
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from pathlib import Path

__all__ = ["HEADER_BYTES", "WalIndex", "header_is_valid"]

HEADER_BYTES = 48  # one copy of the WAL-index header
_MAPPED = 2 * HEADER_BYTES
_IS_INIT = 12  # offset of the isInit byte
_BIG_ENDIAN_CKSUM = 13  # offset of the bigEndCksum byte
_CKSUM = 40  # offset of the two checksum words, computed over the 40 bytes before them
_NATIVE_BIG_ENDIAN = sys.byteorder == "big"
_MASK = 0xFFFFFFFF
_PARKED: list[int] = []  # descriptors that failed to map, kept open for good (see __init__)


def header_is_valid(header: bytes) -> bool:
    """The header is initialised and its checksum (SQLite's ``walChecksumBytes``) is right."""
    if header[_IS_INIT] != 1 or bool(header[_BIG_ENDIAN_CKSUM]) != _NATIVE_BIG_ENDIAN:
        return False  # not ready, or checksums in a byte order we would have to swap: let SQLite answer
    words = struct.unpack_from("=10I", header)
    s1 = s2 = 0
    for i in range(0, 10, 2):
        s1 = (s1 + words[i] + s2) & _MASK
        s2 = (s2 + words[i + 1] + s1) & _MASK
    return (s1, s2) == struct.unpack_from("=2I", header, _CKSUM)


class WalIndex:
    """A read-only view of one database file's WAL-index header.

    Raises ``OSError`` if the ``-shm`` file is missing or too small (the file is not in WAL mode, or
    no connection has opened it yet); callers then keep asking SQLite.
    """

    __slots__ = ("_fd", "_map")

    def __init__(self, database: Path) -> None:
        shm = f"{database}-shm"
        if os.stat(shm).st_size < _MAPPED:  # by name, so no descriptor has to be closed on this path
            raise OSError(f"{Path(shm).name} holds no WAL index yet")
        fd = os.open(shm, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            self._map = mmap.mmap(fd, _MAPPED, mmap.MAP_SHARED, mmap.PROT_READ)
        except BaseException:
            _PARKED.append(fd)  # closing it could drop SQLite's locks; one unused descriptor costs nothing
            raise
        self._fd = fd

    def header(self) -> bytes | None:
        """The current header, or None if a commit is rewriting it right now (ask SQLite instead)."""
        first = self._map[:HEADER_BYTES]
        if first != self._map[HEADER_BYTES:_MAPPED]:
            return None
        return first

    def close(self) -> None:
        """Unmap and close; only once no connection of this process has the database open (see above)."""
        self._map.close()
        os.close(self._fd)
