"""A read cache for one namespace file, valid only while nothing has been committed to the file.

Handlers tend to read the same few keys and list the same few pages over and over, and between
two writes those answers cannot change. So each reading connection keeps what it read, and before
every read asks SQLite whether any commit has reached the file since: ``PRAGMA data_version``
changes whenever another connection commits, whether it is this process's writer, another host,
the CLI or the ``sqlite3`` shell. If it changed, everything cached is dropped. A read therefore
never returns anything older than the latest commit, exactly as an uncached read would not.

The version is read before the rows it guards: a commit that lands between the two only makes the
next check drop rows that were already up to date. List pages depend on the clock as well (a key
stops being listed once it expires), so a page is reused only while the clock has not gone back
and no key on it (or just past it) has expired.

Memory is bounded: small values only, at most ``MAX_ENTRIES`` of them and ``MAX_PAGES`` pages, the
oldest dropped first.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from typing import Any

from .base import Entry

__all__ = ["MAX_CACHED_VALUE", "MAX_ENTRIES", "MAX_PAGES", "MISS", "ReadCache"]

MAX_ENTRIES = 4096
MAX_CACHED_VALUE = 4096  # bytes; bigger values are read from the file each time
MAX_PAGES = 32
MAX_PAGE_ROWS = 1001  # a full list page plus the row that says more follow
MISS = object()  # nothing cached for this key (distinct from None: cached as missing)

PageKey = tuple[bytes, bytes | None, int]  # prefix, start after, limit
Rows = Sequence[tuple[bytes, int | None, str | None]]


class _Page:
    __slots__ = ("rows", "more", "since", "until")

    def __init__(self, rows: Rows, more: bool, since: float, until: float) -> None:
        self.rows = rows
        self.more = more
        self.since = since  # the clock when it was read
        self.until = until  # the first expiration among its rows: valid until then


class ReadCache:
    """What one connection read from one file, kept until the file changes."""

    __slots__ = ("_version", "_entries", "_pages")

    def __init__(self) -> None:
        self._version: int | None = None
        self._entries: dict[bytes, Entry | None] = {}
        self._pages: dict[PageKey, _Page] = {}

    def check(self, connection: sqlite3.Connection) -> None:
        """Drop everything if any commit reached the file since the last check (raises ``sqlite3.Error``)."""
        version = connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._version = version
            if self._entries:
                self._entries.clear()
            if self._pages:
                self._pages.clear()

    def entry(self, key: bytes) -> Entry | None | Any:
        """The cached entry (None: cached as missing), or ``MISS``."""
        return self._entries.get(key, MISS)

    def keep_entry(self, key: bytes, entry: Entry | None) -> None:
        if entry is not None and (entry.value is None or entry.size > MAX_CACHED_VALUE):
            return
        entries = self._entries
        if len(entries) >= MAX_ENTRIES:
            del entries[next(iter(entries))]
        entries[key] = entry

    def page(self, key: PageKey, now: float) -> _Page | None:
        page = self._pages.get(key)
        if page is None or not page.since <= now <= page.until:
            return None
        return page

    def keep_page(self, key: PageKey, fetched: Rows, limit: int, now: float) -> _Page:
        """Keep a page read at ``now``: ``fetched`` is up to ``limit + 1`` rows, the last saying more follow."""
        # The row past the page counts too: if it expires, "more follow" is no longer true.
        until = min((row[1] for row in fetched if row[1] is not None), default=math.inf)
        page = _Page(fetched[:limit], len(fetched) > limit, now, until)
        if len(fetched) <= MAX_PAGE_ROWS:
            pages = self._pages
            if len(pages) >= MAX_PAGES:
                del pages[next(iter(pages))]
            pages[key] = page
        return page
