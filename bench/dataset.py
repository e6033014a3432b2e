"""The scale dataset: a persist directory with a namespace of 1,000,000 keys and one of 1,000, made once and cached.

Keys are ``key:0000000`` upwards with 100-byte values, the shape the scale routes of ``worker.py``
read and overwrite, so a run leaves the dataset as it found it. It is written through the store's own
``put_many`` in large transactions (about half a minute for a million keys) into the cache directory,
outside the repository, and marked complete only at the end: an interrupted build starts over.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from bindings import SqliteStore
from bindings.storage.base import Write

__all__ = ["BIG_ID", "SMALL_ID", "Dataset", "ensure_dataset", "value_for"]

BIG_ID = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
SMALL_ID = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
_BATCH = 50_000
_FORMAT = 1  # bump when the layout of the data changes


@dataclass(frozen=True)
class Dataset:
    """A persist directory holding the two namespaces."""

    persist_to: Path
    big_keys: int
    small_keys: int


def value_for(index: int) -> str:
    """The value stored under ``key:<index>`` (what the put route writes too)."""
    return f"value {index:07} ".ljust(100, "x")


async def _fill(store: SqliteStore, namespace_id: str, title: str, count: int) -> None:
    await store.create_namespace(title, namespace_id)
    storage = await store.namespace(namespace_id)
    for start in range(0, count, _BATCH):
        stop = min(count, start + _BATCH)
        await storage.put_many([Write(f"key:{i:07}".encode(), value_for(i).encode()) for i in range(start, stop)])


async def _build(persist_to: Path, big: int, small: int) -> None:
    store = SqliteStore(persist_to)
    try:
        await _fill(store, BIG_ID, "bench-big", big)
        await _fill(store, SMALL_ID, "bench-small", small)
    finally:
        await store.close()


def ensure_dataset(root: Path, big: int, small: int) -> Dataset:
    """The dataset under ``root``, built there first if it is missing or incomplete."""
    persist_to = root / f"scale-v{_FORMAT}-{big}-{small}"
    marker = persist_to / "complete.json"
    if not marker.exists():
        shutil.rmtree(persist_to, ignore_errors=True)
        asyncio.run(_build(persist_to, big, small))
        marker.write_text(json.dumps({"big": big, "small": small}) + "\n", encoding="utf-8")
    return Dataset(persist_to, big, small)
