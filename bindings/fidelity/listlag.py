"""``consistency: eventual``: key lists that lag behind writes.

"Changes may take up to 60 seconds ... to be visible when listing keys", and a page may come back
with no keys and ``list_complete: false``: "recently expired or deleted keys must be iterated
through" (https://developers.cloudflare.com/kv/api/list-keys/).

Every write and delete this host makes is noted with what the key held before it. For ``list_lag``
seconds after a key's last change, a listing at the location shows the key as it was before the
changes: a key created meanwhile is not listed yet, an overwritten one keeps its old expiration and
metadata, and a deleted one is still listed. A key not listed yet still takes its place in the page
it falls in, as a deleted key does in production, so a page can hold fewer keys than asked for, or
none, with more to come. Writes by other processes (``workerhost kv``) are seen at once.

Memory is bounded: changes older than the lag are dropped, and the oldest beyond a count.
"""

from __future__ import annotations

from collections import OrderedDict

from ..clock import Clock
from ..storage.base import KeyRow, NamespaceStorage

__all__ = ["MAX_CHANGES", "ListLag", "Prior"]

MAX_CHANGES = 10_000

Prior = tuple[int | None, str | None] | None  # (expiration, metadata) a key had before a change; None: absent


class _Change:
    __slots__ = ("at", "prior")

    def __init__(self, at: float, prior: Prior) -> None:
        self.at = at
        self.prior = prior


def _row(key: bytes, prior: Prior, now: float) -> KeyRow | None:
    # The row a key had, if the store's own rule would list it: no expiration, or one not before now.
    if prior is None:
        return None
    expiration, metadata = prior
    if expiration is not None and expiration < now:
        return None
    return key, expiration, metadata


class ListLag:
    """The changes of one namespace that key lists do not show yet.

    Args:
        clock: the time changes age by.
        lag: seconds a change takes to show in lists.
    """

    __slots__ = ("_clock", "_lag", "_changes", "_max_changes")

    def __init__(self, clock: Clock, lag: float, *, max_changes: int = MAX_CHANGES) -> None:
        self._clock = clock
        self._lag = lag
        self._changes: OrderedDict[bytes, _Change] = OrderedDict()  # least recently changed first
        self._max_changes = max_changes

    def note(self, key: bytes, prior: Prior) -> None:
        """``key`` was just written or deleted; ``prior`` is what it held before (None: it did not exist).

        Changes in a row propagate together: lists show what the key held before the first of them
        until the last is ``lag`` old.
        """
        now = self._clock.now()
        self._forget(now)
        change = self._changes.pop(key, None)
        self._changes[key] = _Change(now, prior if change is None else change.prior)
        while len(self._changes) > self._max_changes:
            self._changes.popitem(last=False)

    async def list(
        self, storage: NamespaceStorage, prefix: bytes, after: bytes | None, limit: int, now: float
    ) -> tuple[list[KeyRow], bytes | None]:
        """A page as the location lists it: the rows, and the key a cursor resumes after (None: complete)."""
        self._forget(now)
        rows, more = await storage.list(prefix, after, limit, now)
        upper = rows[-1][0] if more else None  # the page covers keys after ``after`` up to this one
        if not self._changes:
            return rows, upper
        lagging = {
            key: change.prior
            for key, change in self._changes.items()
            if key.startswith(prefix) and (after is None or key > after) and (upper is None or key <= upper)
        }
        if not lagging:
            return rows, upper
        page: list[KeyRow] = []
        for row in rows:
            key = row[0]
            shown = _row(key, lagging.pop(key), now) if key in lagging else row
            if shown is not None:
                page.append(shown)
        for key, prior in lagging.items():  # deleted meanwhile: still listed
            shown = _row(key, prior, now)
            if shown is not None:
                page.append(shown)
        page.sort(key=lambda row: row[0])
        if len(page) > limit:
            del page[limit:]
            return page, page[-1][0]
        return page, upper

    def clear(self) -> None:
        """Forget every change: lists show the store as it is."""
        self._changes.clear()

    def _forget(self, now: float) -> None:
        changes, horizon = self._changes, now - self._lag
        while changes:
            key, change = next(iter(changes.items()))
            if change.at > horizon:
                return
            del changes[key]

    def __len__(self) -> int:
        return len(self._changes)
