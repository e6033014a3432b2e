"""Fresh random 96-bit nonces for AES-GCM, drawn from the system's random source thousands at a time.

``os.urandom`` is one ``getrandom`` system call, and CPython releases the GIL around it: under load,
with the SQLite writer thread running, getting the GIL back cost a put tens of microseconds, more
than the sealing itself (README "Encryption at rest", the cost). So the bytes of many nonces are read
at once and handed out in order; every nonce is still 12 bytes straight from the system's random
source, used once.

A process that forks (``--workers N``) must never hand out the same bytes in two processes, so the
child drops what its parent had read before it takes any (``os.register_at_fork``). A lock makes the
pool safe for the worker threads that seal large values.
"""

from __future__ import annotations

import os
import threading

__all__ = ["NoncePool", "fresh_nonce"]

_BATCH = 4096  # nonces per read: 48 KiB


class NoncePool:
    """Hands out random byte strings of one size, each used once, read from ``os.urandom`` in batches.

    Args:
        size: the bytes of each one (12 for AES-GCM).
        batch: how many are read from the system at once.
    """

    def __init__(self, size: int, batch: int = _BATCH) -> None:
        self.size = size
        self.batch = batch
        self._lock = threading.Lock()
        self._buffer = b""
        self._next = 0

    def take(self) -> bytes:
        """The next unused random bytes."""
        with self._lock:
            start = self._next
            if start + self.size > len(self._buffer):
                self._buffer = os.urandom(self.size * self.batch)
                start = 0
            self._next = start + self.size
            return self._buffer[start : self._next]

    def drop(self) -> None:
        """Forget the bytes read so far (they may be another process's too); the next take reads afresh."""
        # A lock held by a thread of the parent at the fork is never released in the child.
        self._lock = threading.Lock()
        self._buffer = b""
        self._next = 0


_POOL = NoncePool(12)  # AES-GCM's 96-bit nonce
os.register_at_fork(after_in_child=_POOL.drop)


def fresh_nonce() -> bytes:
    """A 96-bit nonce no other seal of this process, or of a process forked from it, gets."""
    return _POOL.take()
