"""Each namespace file's writer: a file another process holds locked stalls only its own writes, for a
bounded time, and writer threads of idle files go away.

The lock is held by a separate process (``lock_holder.py``), as a ``sqlite3`` shell inside
``BEGIN IMMEDIATE`` holds it.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bindings import SqliteStore
from bindings.errors import StorageLockedError
from bindings.storage.base import Entry
from bindings.storage.sqlite import writer as sqlite_writer

from ....support import EVENTUALLY_TIMEOUT
from .lock_holder import holding_write_lock

pytestmark = pytest.mark.anyio


def _writer_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("workerhost-kv-writer")]


async def test_a_locked_namespace_stalls_only_its_own_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, lock_timeout=60)  # the locked write waits all through the test
    try:
        info = await store.create_namespace("locked")
        locked = await store.namespace(info.id)
        free = await store.namespace((await store.create_namespace("free")).id)
        await locked.put(b"before", b"v", None, None)
        with holding_write_lock(store.namespace_path(info.id)):
            waiting = asyncio.ensure_future(locked.put(b"k", b"waits for the lock", None, None))
            await asyncio.sleep(0)  # queued first: a shared writer would have to get past it
            await asyncio.wait_for(free.put(b"k", b"written", None, None), EVENTUALLY_TIMEOUT)
            created = await asyncio.wait_for(store.create_namespace("created meanwhile"), EVENTUALLY_TIMEOUT)
            assert await free.get(b"k") == Entry(b"written", 7, None, None)
            assert await locked.get(b"before") == Entry(b"v", 1, None, None)  # reads go on
            assert not waiting.done()
        await asyncio.wait_for(waiting, EVENTUALLY_TIMEOUT)  # queued, not failed, once the lock is free
        assert await locked.get(b"k") == Entry(b"waits for the lock", 18, None, None)
        assert await store.get_namespace(created.id) == created
    finally:
        await store.close()


async def test_a_write_to_a_file_locked_too_long_fails_alone_and_writes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, lock_timeout=0.5)
    try:
        info = await store.create_namespace("locked")
        locked = await store.namespace(info.id)
        with holding_write_lock(store.namespace_path(info.id)):
            results = await asyncio.gather(
                *(locked.put(f"k{n}".encode(), b"v", None, None) for n in range(20)), return_exceptions=True
            )
        message = (
            f"namespace {info.id} is locked by another process: its write lock was not free within 0.5 s; "
            "nothing was written"
        )
        assert {type(result) for result in results} == {StorageLockedError}
        assert {str(result) for result in results} == {message}
        assert await locked.list(b"", None, 100, 0) == ([], False)
        await locked.put(b"after", b"v", None, None)  # the lock is free again
        assert await locked.get(b"after") == Entry(b"v", 1, None, None)
    finally:
        await store.close()


async def test_creating_a_namespace_while_the_catalog_is_locked_too_long_fails_clearly(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, lock_timeout=0.5)
    try:
        await store.create_namespace("first")
        with holding_write_lock(tmp_path / "kv" / "catalog.sqlite3"):
            with pytest.raises(StorageLockedError, match="^the namespace catalog is locked by another process"):
                await store.create_namespace("second")
        assert [info.title for info in await store.list_namespaces()] == ["first"]
        assert sorted(path.name for path in store.kv_dir.glob("*.sqlite3")) == sorted(
            ["catalog.sqlite3", store.namespace_path((await store.list_namespaces())[0].id).name]
        )  # the refused namespace's file went with it
    finally:
        await store.close()


async def test_writer_threads_of_idle_namespaces_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_writer, "IDLE_SECONDS", 0.05)
    store = SqliteStore(tmp_path)
    try:
        namespaces = [await store.namespace((await store.create_namespace(f"ns{n}")).id) for n in range(10)]
        await asyncio.gather(*(namespace.put(b"k", b"v", None, None) for namespace in namespaces))
        for _ in range(int(EVENTUALLY_TIMEOUT / 0.02)):
            if not _writer_threads():
                break
            await asyncio.sleep(0.02)
        assert _writer_threads() == []
        await namespaces[0].put(b"k", b"again", None, None)  # a write starts its file's thread again
        assert await namespaces[0].get(b"k") == Entry(b"again", 5, None, None)
    finally:
        await store.close()


async def test_a_namespace_another_process_holds_whole_does_not_stop_the_sweep(tmp_path: Path) -> None:
    # The sweep opens each file on a connection of its own; one that cannot even be read (a process in
    # SQLite's exclusive locking mode) must not stop the others being swept, nor the sweep itself.
    writer = SqliteStore(tmp_path)
    held, other = [await writer.create_namespace(title) for title in ("held", "other")]
    for info in (held, other):
        await (await writer.namespace(info.id)).put(b"old", b"v", 100, None)
    await writer.close()
    store = SqliteStore(tmp_path, lock_timeout=0.5)
    try:
        with holding_write_lock(store.namespace_path(held.id), exclusive=True):
            for _ in range(2):  # as the sweep goes on, interval after interval
                with pytest.raises(StorageLockedError, match=f"^namespace {held.id} is locked by another process"):
                    await store.purge_expired(1000)
            assert await (await store.namespace(other.id)).get(b"old") is None
        assert await store.purge_expired(1000) == 1
    finally:
        await store.close()


async def test_writes_go_on_while_writer_threads_end_and_start_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A thread that ends after idling closes its connection; one started for the next write must never
    # pick up that connection half closed.
    monkeypatch.setattr(sqlite_writer, "IDLE_SECONDS", 0.0005)
    store = SqliteStore(tmp_path)
    try:
        storage = await store.namespace((await store.create_namespace("busy")).id)
        for n in range(300):
            await storage.put(f"k{n % 7}".encode(), str(n).encode(), None, None)
            await asyncio.sleep(0.0005 * (n % 3))  # around the idle time: threads end and start again
        assert [(await storage.get(f"k{k}".encode())).value for k in range(7)] == [  # type: ignore[union-attr]
            str(max(n for n in range(300) if n % 7 == k)).encode() for k in range(7)
        ]
    finally:
        await store.close()
