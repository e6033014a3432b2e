"""The live feed of KV changes: who wrote what, as it happens, across processes (README "Dashboard").

    events.py     ``ChangeEvent``: one write, delete or namespace change, and its journal line
    feed.py       ``ChangeFeed``: this process's changes at once, other processes' through the journal
    observed.py   ``observed(storage, feed, ...)``: a namespace's storage that records its writes
    journal.py    ``FileJournal``: the JSON-lines file beside the SQLite data that processes share
"""

from __future__ import annotations

import os
from pathlib import Path

from ..clock import Clock
from ..storage.engines import scheme_of
from ..storage.sqlite.location import parse_sqlite_location
from .events import MAX_LISTED, ChangeEvent
from .feed import ChangeFeed, Missed, Subscription
from .journal import JOURNAL_NAME, FileJournal
from .observed import observed

__all__ = ["MAX_LISTED", "ChangeEvent", "ChangeFeed", "FileJournal", "Missed", "Subscription", "feed_for", "observed"]


def journal_path(location: str | os.PathLike[str]) -> Path | None:
    """Where the journal of the store at ``location`` lives: beside a SQLite store's files; None elsewhere.

    A Redis store has no journal: each host's feed shows the writes made through it.
    """
    text = os.fspath(location)
    if scheme_of(text) not in (None, "sqlite"):
        return None
    return parse_sqlite_location(text).directory / "kv" / JOURNAL_NAME


def feed_for(location: str | os.PathLike[str], clock: Clock) -> ChangeFeed:
    """A feed for the store at ``location``, sharing its journal with every other process using that store."""
    path = journal_path(location)
    return ChangeFeed(clock, None if path is None else FileJournal(path))
