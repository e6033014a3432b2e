"""A read cache for one namespace file, valid only while nothing has been committed to the file.

Handlers tend to read the same few keys and list the same few pages over and over, and between
two writes those answers cannot change. So each reading connection keeps what it read, and before
every read asks SQLite whether any commit has reached the file since: the header of the file's WAL
index (``sqlite_walindex``, read from shared memory without a system call) and ``PRAGMA data_version``
(a query, the fallback) both change whenever another connection commits, whether it is this
process's writer, another host, the CLI or the ``sqlite3`` shell. If it changed, everything cached is
dropped. A read therefore never returns anything older than the latest commit, exactly as an
uncached read would not.

The header or version is read before the rows it guards: a commit that lands between the two only
makes the next check drop rows that were already up to date. List pages depend on the clock as well
(a key stops being listed once it expires), so a page is reused only while the clock has not gone
back and no key on it (or just past it) has expired.

Why not the WAL file's size or time: file times are coarse and a reused WAL keeps its size, so
commits would be missed. The WAL-index header changes on every commit by design.

Memory is bounded per file and reading thread: values of at most ``MAX_CACHED_VALUE`` bytes, at most
``MAX_ENTRIES`` of them and ``MAX_ENTRY_BYTES`` in all; at most ``MAX_PAGES`` pages and
``MAX_PAGE_BYTES`` of keys and metadata; the oldest go first. The store's ``read_cache`` option turns
the cache off (``WORKERHOST_READ_CACHE=0`` for the host; the benchmark does, to compare storage
rather than memory).
"""

from __future__ import annotations

import enum
import math
import sqlite3
from collections.abc import Sequence

from ..base import Entry
from .walindex import WalIndex, consistent, header_is_valid

__all__ = [
    "MAX_CACHED_VALUE",
    "MAX_ENTRIES",
    "MAX_ENTRY_BYTES",
    "MAX_PAGES",
    "MAX_PAGE_BYTES",
    "MISS",
    "ReadCache",
]

MAX_ENTRIES = 4096
MAX_CACHED_VALUE = 4096  # bytes; bigger values are read from the file each time
MAX_ENTRY_BYTES = 2 * 1024 * 1024
MAX_PAGES = 32
MAX_PAGE_BYTES = 4 * 1024 * 1024


class _Miss(enum.Enum):
    MISS = enum.auto()


MISS = _Miss.MISS  # nothing cached for this key (distinct from None: cached as missing)

PageKey = tuple[bytes, bytes | None, int]  # prefix, start after, limit
Rows = Sequence[tuple[bytes, int | None, str | None]]


class _Page:
    __slots__ = ("rows", "more", "since", "until", "size")

    def __init__(self, rows: Rows, more: bool, since: float, until: float, size: int) -> None:
        self.rows = rows
        self.more = more
        self.since = since  # the clock when it was read
        self.until = until  # the first expiration among its rows: valid until then
        self.size = size  # bytes of keys and metadata


class ReadCache:
    """What one connection read from one file, kept until the file changes.

    Args:
        enabled: False keeps nothing (every read goes to the file), with the same interface; ``check``
            still tells whether the file changed.
    """

    __slots__ = ("enabled", "_copies", "_version", "_entries", "_entry_bytes", "_pages", "_page_bytes")

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._copies: bytes | None = None  # both WAL-index header copies when the cache was last known current
        self._version: int | None = None
        self._entries: dict[bytes, Entry | None] = {}
        self._entry_bytes = 0
        self._pages: dict[PageKey, _Page] = {}
        self._page_bytes = 0

    def check(self, connection: sqlite3.Connection, index: WalIndex | None = None) -> bool:
        """Drop everything if any commit reached the file since the last check, and say whether one did.

        With the file's ``index`` this usually costs no query: an unchanged WAL-index header means no
        commit since (``sqlite_walindex``). A header being rewritten, or no index, falls back to
        ``PRAGMA data_version``. The first check says True. A cache that keeps nothing still watches
        the file, so its reader learns of every commit (a deleted namespace's is one). Raises
        ``sqlite3.Error``.
        """
        if index is not None:
            # One read of both copies: equal to the last reading, both copies are still the header
            # that was consistent and valid then, and nothing has committed (no byte of a rewrite
            # was read), so the hot read compares once and allocates once.
            copies = index.copies()
            if copies == self._copies:
                return False
            header = consistent(copies)
            if header is not None and header_is_valid(header):
                # Read before the rows it will guard, as the version below is: a commit landing in
                # between only makes the next check drop rows that were already current.
                self._copies, self._version = copies, None
                self._clear()
                return True
        self._copies = None
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version = version
            self._clear()
            return True
        return False

    def _clear(self) -> None:
        if self._entries:
            self._entries.clear()
            self._entry_bytes = 0
        if self._pages:
            self._pages.clear()
            self._page_bytes = 0

    # --- single keys -----------------------------------------------------------------------------

    def entry(self, key: bytes) -> Entry | None | _Miss:
        """The cached entry (None: cached as missing), or ``MISS``."""
        return self._entries.get(key, MISS)

    def keep_entry(self, key: bytes, entry: Entry | None) -> None:
        if not self.enabled:
            return
        size = 0 if entry is None else entry.size
        if size > MAX_CACHED_VALUE:
            return
        entries = self._entries
        while entries and (len(entries) >= MAX_ENTRIES or self._entry_bytes + size > MAX_ENTRY_BYTES):
            oldest = entries.pop(next(iter(entries)))
            self._entry_bytes -= 0 if oldest is None else oldest.size
        entries[key] = entry
        self._entry_bytes += size

    # --- list pages ------------------------------------------------------------------------------

    def page(self, key: PageKey, now: float) -> _Page | None:
        page = self._pages.get(key)
        if page is None or not page.since <= now <= page.until:
            return None
        return page

    def keep_page(self, key: PageKey, fetched: Rows, limit: int, now: float) -> _Page:
        """Keep a page read at ``now``: ``fetched`` is up to ``limit + 1`` rows, the last saying more follow."""
        # The row past the page counts too: if it expires, "more follow" is no longer true.
        until = min((row[1] for row in fetched if row[1] is not None), default=math.inf)
        if not self.enabled:
            return _Page(fetched[:limit], len(fetched) > limit, now, until, 0)
        size = sum(len(row[0]) + len(row[2] or "") for row in fetched)
        page = _Page(fetched[:limit], len(fetched) > limit, now, until, size)
        if size <= MAX_PAGE_BYTES:
            pages = self._pages
            while pages and (len(pages) >= MAX_PAGES or self._page_bytes + size > MAX_PAGE_BYTES):
                self._page_bytes -= pages.pop(next(iter(pages))).size
            pages[key] = page
            self._page_bytes += size
        return page
