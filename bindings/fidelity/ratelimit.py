"""``rate_limit``: production's one write per second to a key.

"Workers KV has a maximum of 1 write to the same key per second. Writes made to the same key within
1 second will cause rate limiting (429) errors to be thrown."
(https://developers.cloudflare.com/kv/api/write-key-value-pairs/). The binding reports it as
``KV PUT failed: 429 Too Many Requests``.

A write reserves its key's second before it reaches the storage engine, so of two concurrent writes
to one key exactly one is refused, as in production; a write the engine then fails gives its
second back. Only writes that were let through count: a refused one does not extend the wait.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from ..clock import Clock
from ..errors import KVError

__all__ = ["TOO_MANY_REQUESTS", "WRITE_INTERVAL", "Reservation", "WriteRateLimiter"]

WRITE_INTERVAL = 1.0
TOO_MANY_REQUESTS = "Too Many Requests"
# Keys written within the last second are remembered, so memory grows with the write rate; this
# caps it when the clock stands still (a test writing many keys without advancing it).
_MAX_KEYS = 100_000

Reservation = list[tuple[bytes, float | None]]  # each key reserved, with the time of its previous write


class WriteRateLimiter:
    """The time of the last accepted write to each key of one namespace, judged on the injected clock."""

    __slots__ = ("_clock", "_interval", "_max_keys", "_written")

    def __init__(self, clock: Clock, interval: float = WRITE_INTERVAL, max_keys: int = _MAX_KEYS) -> None:
        self._clock = clock
        self._interval = interval
        self._max_keys = max_keys
        self._written: OrderedDict[bytes, float] = OrderedDict()  # oldest write first

    def reserve(self, keys: Iterable[bytes]) -> Reservation:
        """Claim this second for every key, or raise the 429 and claim none."""
        now = self._clock.now()
        self._forget(now)
        unique = list(dict.fromkeys(keys))  # a key named twice in one bulk write is one write
        written = self._written
        for key in unique:
            last = written.get(key)
            if last is not None and now - last < self._interval:
                raise KVError(429, TOO_MANY_REQUESTS)
        reservation = [(key, written.get(key)) for key in unique]
        for key in unique:
            written[key] = now
            written.move_to_end(key)
        while len(written) > self._max_keys:
            written.popitem(last=False)
        return reservation

    def release(self, reservation: Reservation) -> None:
        """Give back what ``reserve`` claimed: the write did not happen."""
        for key, previous in reservation:
            if previous is None:
                self._written.pop(key, None)
            else:
                self._written[key] = previous

    def clear(self) -> None:
        self._written.clear()

    def _forget(self, now: float) -> None:
        written, horizon = self._written, now - self._interval
        while written:
            key, at = next(iter(written.items()))
            if at > horizon:
                return
            del written[key]

    def __len__(self) -> int:
        return len(self._written)
