"""``ChangeFeed``: the writes of this process as they happen, and other processes' through the journal.

Whoever writes (a worker's binding, the REST API, the CLI) records an event after the write is
acknowledged. The feed hands it at once to this process's subscribers and, batched once per turn
of the event loop, to the journal if any process follows it. Recording is on every write's path,
so with nobody subscribed here the event is kept as its raw fields, and built only once the journal
turns out to be watched. While anyone subscribes, the feed also tails the journal every
``POLL_SECONDS`` for other processes' lines. A subscriber that falls ``QUEUE_LIMIT`` events behind
is told how many it missed rather than holding the feed up; recording never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from ..clock import Clock
from .events import MAX_LISTED, ChangeEvent, parse_line

__all__ = ["POLL_SECONDS", "QUEUE_LIMIT", "ChangeFeed", "Journal", "Missed", "Subscription"]

POLL_SECONDS = 0.1
QUEUE_LIMIT = 1000

# A put or delete nobody here subscribes to, as recorded: at, op, namespace, the first keys, how many, source.
_Keys = tuple[float, str, str, Sequence[bytes], int, str]


class JournalTail(Protocol):
    def read(self) -> list[bytes]: ...

    def close(self) -> None: ...


class Journal(Protocol):
    """Where events go for other processes, and come from them (``FileJournal``)."""

    def watched(self) -> bool: ...

    def append(self, data: bytes) -> None: ...

    def reader(self) -> JournalTail: ...

    def close(self) -> None: ...


class Missed:
    """Stands in a subscription for ``count`` events dropped because the subscriber fell behind."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


class Subscription:
    """The events recorded from its start on: ``async for item in subscription``, then ``close()``."""

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._queue: asyncio.Queue[ChangeEvent | Missed | None] = asyncio.Queue(QUEUE_LIMIT)
        self._missed = 0

    def deliver(self, event: ChangeEvent | None) -> None:
        try:
            if self._missed:
                self._queue.put_nowait(Missed(self._missed))
                self._missed = 0
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._missed += 1

    async def next(self, timeout: float | None = None) -> ChangeEvent | Missed | None:
        """The next event; None once the feed closes (or when ``timeout`` passes first, as a keep-alive)."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._feed.unsubscribe(self)


class ChangeFeed:
    """The live feed of KV changes (README "Dashboard").

    Args:
        clock: the time events carry.
        journal: the journal other processes share, or None to see this process's changes alone.
    """

    def __init__(self, clock: Clock, journal: Journal | None = None) -> None:
        self.clock = clock
        self.journal = journal
        self.origin = secrets.token_hex(8)  # made in the process that records (after any fork)
        self.closed = False
        self.ending = False  # subscriptions are over (the host is stopping); recording goes on until close
        self._subscribers: set[Subscription] = set()
        self._pending: list[ChangeEvent | _Keys] = []
        self._flush_scheduled = False
        self._tail: asyncio.Task[None] | None = None
        self._reader: JournalTail | None = None  # closed here too: a tail cancelled before it ran never closes it

    # --- recording -------------------------------------------------------------------------------

    def keys_changed(self, op: str, namespace: str, keys: Sequence[bytes], source: str) -> None:
        """Record a put or delete of ``keys`` (after it was acknowledged)."""
        if self.closed:
            return
        if self._subscribers:
            self._record(ChangeEvent.of_keys(self.clock.now(), op, namespace, keys, source, self.origin))
        elif self.journal is not None:
            self._pending.append((self.clock.now(), op, namespace, keys[:MAX_LISTED], len(keys), source))
            self._schedule_flush()

    def namespace_changed(self, op: str, namespace: str, title: str, source: str) -> None:
        """Record a namespace created, renamed (``title`` is the new one) or deleted."""
        if not self.closed:
            self._record(ChangeEvent(self.clock.now(), op, namespace, (), 0, source, self.origin, title))

    def _record(self, event: ChangeEvent) -> None:
        for subscriber in self._subscribers:
            subscriber.deliver(event)
        if self.journal is not None:
            self._pending.append(event)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what is pending to the journal now, if anyone follows it; otherwise drop it."""
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        if not pending or self.journal is None or not self.journal.watched():
            return
        self.journal.append(b"".join(self._event(item).line() for item in pending))

    def _event(self, item: ChangeEvent | _Keys) -> ChangeEvent:
        if isinstance(item, ChangeEvent):
            return item
        at, op, namespace, listed, count, source = item
        return ChangeEvent.of_keys(at, op, namespace, listed, source, self.origin, count)

    # --- subscribing -----------------------------------------------------------------------------

    def subscribe(self) -> Subscription:
        """A subscription to every event from now on; starts tailing the journal if it is the first."""
        subscription = Subscription(self)
        if self.ending:
            subscription.deliver(None)
            return subscription
        self._subscribers.add(subscription)
        if self.journal is not None and self._tail is None:
            self._reader = self.journal.reader()  # now, so that every event recorded from here on is seen
            self._tail = asyncio.ensure_future(self._follow(self._reader))
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        if not self._subscribers:
            self._stop_following()

    def _stop_following(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            self._tail = None
        if self._reader is not None:
            self._reader.close()  # lets writers stop journaling at once
            self._reader = None

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[Subscription]:
        """``subscribe()`` for the length of a ``with`` block."""
        subscription = self.subscribe()
        try:
            yield subscription
        finally:
            subscription.close()

    async def _follow(self, tail: JournalTail) -> None:
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                for line in tail.read():  # a few lines of a local file: cheaper inline than on a thread
                    event = parse_line(line)
                    if event is not None and event.origin != self.origin:
                        for subscriber in self._subscribers:
                            subscriber.deliver(event)
        finally:
            tail.close()

    def end_subscriptions(self) -> None:
        """End every subscription (their ``next`` gives None), and any made from now on."""
        self.ending = True
        for subscriber in list(self._subscribers):
            subscriber.deliver(None)
        self._subscribers.clear()
        self._stop_following()

    async def close(self) -> None:
        """End every subscription, write what is pending, and record nothing more."""
        if self.closed:
            return
        self.end_subscriptions()
        self.flush()
        self.closed = True
        await asyncio.sleep(0)  # lets a cancelled tail close its reader
        if self.journal is not None:
            self.journal.close()
