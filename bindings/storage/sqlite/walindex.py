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
the two equal and the checksum right has a consistent header. We do exactly that: no lock, no
system call. The hot check is cheaper still: it reads both copies at once and compares them with the
last reading it trusted; equal, both copies still hold that header, so no commit has begun since.

We read SQLite's own mapping of the ``-shm`` file, found once in ``/proc/self/maps``, rather than map
the file ourselves. A descriptor of our own would be a hazard: POSIX record locks belong to the
process, and closing *any* descriptor of a file releases all of them, including the locks SQLite holds
on the ``-shm`` file for every connection of this process (a write lock among them). SQLite maps the
file once per process and keeps the mapping while any connection of the process has the database
open, so the view is valid while the caller holds a connection to it; callers drop it first
(``NamespaceReaders``). Where there is no ``/proc`` (not Linux) the caches ask SQLite with a query.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
from pathlib import Path

__all__ = ["HEADER_BYTES", "WalIndex", "consistent", "header_is_valid"]

HEADER_BYTES = 48  # one copy of the WAL-index header
_IS_INIT = 12  # offset of the isInit byte
_BIG_ENDIAN_CKSUM = 13  # offset of the bigEndCksum byte
_CKSUM = 40  # offset of the two checksum words, computed over the 40 bytes before them
_NATIVE_BIG_ENDIAN = sys.byteorder == "big"
_MASK = 0xFFFFFFFF
_MAPS = "/proc/self/maps"


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


def _shm_address(shm: Path) -> int:
    """Where this process has the start of ``shm`` mapped; ``OSError`` unless there is exactly one such mapping."""
    target = os.fsencode(shm)
    found = []
    with open(_MAPS, "rb") as maps:
        for line in maps:
            # start-end perms offset dev inode path; the path may hold spaces, so it is the rest of the line
            fields = line.rstrip(b"\n").split(maxsplit=5)
            if len(fields) == 6 and fields[5] == target and int(fields[2], 16) == 0:
                found.append(int(fields[0].split(b"-")[0], 16))
    if len(found) != 1:
        raise OSError(f"{shm.name}: {len(found)} mappings of its WAL index in this process, expected one")
    return found[0]


class WalIndex:
    """A read-only view of one database file's WAL-index header, in SQLite's mapping of its ``-shm`` file.

    Raises ``OSError`` if this process has no such mapping (the file is not in WAL mode, no connection
    of this process has read it yet, or there is no ``/proc``); callers then keep asking SQLite. Valid
    only while a connection of this process has the database open (see above): drop it before closing
    the last one.
    """

    __slots__ = ("_copies",)

    def __init__(self, database: Path) -> None:
        address = _shm_address(Path(f"{database}-shm"))
        self._copies = (ctypes.c_char * (2 * HEADER_BYTES)).from_address(address)

    def copies(self) -> bytes:
        """Both copies of the header as they are now, in one read: equal to an earlier reading means no commit since."""
        return self._copies.raw

    def header(self) -> bytes | None:
        """The current header, or None if a commit is rewriting it right now (ask SQLite instead)."""
        return consistent(self._copies.raw)


def consistent(copies: bytes) -> bytes | None:
    """The header in a reading of both copies (``WalIndex.copies``); None if they differ (a rewrite under way)."""
    first = copies[:HEADER_BYTES]
    return first if first == copies[HEADER_BYTES:] else None
