"""Value streams and the write-ahead log: a reader that stops does not keep the log from being reset.

Whether the log can be reset is asked the way SQLite's own checkpoint answers it, from another
connection: a passive checkpoint that copies every frame means no read transaction pins the log.
Writes "elsewhere" are plain ``sqlite3`` commits without fsync, so thousands take a fraction of a second.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bindings import SqliteStore
from bindings.errors import StorageError

from ....support import EVENTUALLY_TIMEOUT

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024


def _commits_elsewhere(path: Path, count: int) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        for n in range(count):
            connection.execute(
                "INSERT INTO entries (key, size, value) VALUES (?, 1, x'00') ON CONFLICT (key) DO UPDATE SET size = 1",
                (f"other{n % 50}".encode(),),
            )
    finally:
        connection.close()


def _log_fully_checkpointed(path: Path) -> bool:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return bool(frames == copied)
    finally:
        connection.close()


async def _until(condition: object, what: str) -> None:
    for _ in range(int(EVENTUALLY_TIMEOUT / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _spill_descriptors(directory: Path) -> int:
    # The copy of a stalled stream is an anonymous file in the data directory: "#1234 (deleted)" with
    # O_TMPFILE, else a "tmp..." file unlinked at once.
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        name = target.removeprefix(f"{directory}/")
        if name != target and name.startswith(("#", "tmp")) and name.endswith(" (deleted)"):
            count += 1
    return count


async def test_a_stalled_stream_lets_the_log_be_reset_while_writes_go_on(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        info = await store.create_namespace("streamed")
        storage = await store.namespace(info.id)
        path = store.namespace_path(info.id)
        value = os.urandom(8 * MIB)
        await storage.put(b"big", value, None, None)
        stream = await storage.open(b"big")
        assert stream is not None
        first = await anext(stream.chunks)  # then nobody reads: a client that stopped

        def reset_possible() -> bool:
            _commits_elsewhere(path, 20)
            return _log_fully_checkpointed(path)

        await _until(reset_possible, "the stalled stream to let go of its snapshot")
        _commits_elsewhere(path, 3000)  # with a pinned log each commit grows it: about 25 MB here
        assert Path(f"{path}-wal").stat().st_size < 16 * MIB
        await storage.put(b"big", b"overwritten", None, None)
        rest = b"".join([chunk async for chunk in stream.chunks])
        assert first + rest == value  # still the one version it started with
    finally:
        await store.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to see the copy")
async def test_a_stream_unread_past_its_timeout_is_abandoned(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, stream_timeout=1.5)
    try:
        info = await store.create_namespace("streamed")
        storage = await store.namespace(info.id)
        await storage.put(b"big", os.urandom(2 * MIB), None, None)
        stream = await storage.open(b"big")
        assert stream is not None
        await anext(stream.chunks)
        await _until(lambda: _spill_descriptors(store.kv_dir) == 1, "the stalled stream to copy the rest")
        await _until(lambda: _spill_descriptors(store.kv_dir) == 0, "the stream to be abandoned")
        with pytest.raises(StorageError, match="^the value stream was abandoned: nothing was read from it for 1.5 s$"):
            await anext(stream.chunks)
        assert [chunk async for chunk in stream.chunks] == []
    finally:
        await store.close()


async def test_a_stream_closed_before_it_is_read_holds_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        info = await store.create_namespace("streamed")
        storage = await store.namespace(info.id)
        path = store.namespace_path(info.id)
        await storage.put(b"big", os.urandom(2 * MIB), None, None)
        stream = await storage.open(b"big")
        assert stream is not None
        await stream.aclose()  # as the REST API's metadata read does: opened, never read
        _commits_elsewhere(path, 10)
        assert _log_fully_checkpointed(path)
    finally:
        await store.close()
