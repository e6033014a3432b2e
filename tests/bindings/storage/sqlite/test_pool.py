"""Which namespace files a store keeps open: at most its pool's capacity, least recently used closed first,
never one in use. Descriptors are counted for real, in ``/proc/self/fd``."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from bindings import SqliteStore
from bindings.storage.base import Entry
from bindings.storage.sqlite.pool import FDS_PER_FILE, default_capacity

from ....support import EVENTUALLY_TIMEOUT
from .lock_holder import holding_write_lock

pytestmark = pytest.mark.anyio
MIB = 1024 * 1024

needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count descriptors")


def _descriptors_under(directory: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
                count += 1
        except OSError:
            continue
    return count


def _open_ids(store: SqliteStore) -> set[str]:
    return {file.namespace_id for file in store.pool.files()}


@needs_proc
async def test_descriptors_stay_bounded_however_many_namespaces_are_used(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, max_open=4)
    try:
        infos = [await store.create_namespace(f"ns{n:02}") for n in range(40)]
        most = 0
        for round_ in range(2):
            for info in infos:
                namespace = await store.namespace(info.id)
                await namespace.put(b"k", f"{info.title} {round_}".encode(), None, None)
                await namespace.put(b"big", b"x" * (100 * 1024), None, None)  # read on a worker thread
                assert await namespace.get(b"k") == Entry(f"{info.title} {round_}".encode(), 6, None, None)
                assert len(await namespace.get_many([b"big"])) == 1
                assert (await namespace.list(b"", None, 10, 0))[0][0][0] == b"big"
                most = max(most, _descriptors_under(store.kv_dir))
        assert len(_open_ids(store)) <= 4
        # the catalog (a reader and a writer), plus at most four namespace files
        assert most <= 2 * 3 + 4 * FDS_PER_FILE, most
        # The sweep visits every namespace on a connection of its own, closed at once (SQLite keeps a
        # closed connection's descriptor while the process has that file open, and reuses it next time).
        sweeps = []
        for _ in range(3):
            assert await store.purge_expired(0) == 0
            sweeps.append(_descriptors_under(store.kv_dir))
        assert sweeps[0] == sweeps[-1] <= most + 4, sweeps
    finally:
        await store.close()
    assert _descriptors_under(store.kv_dir) == 0


@needs_proc
async def test_a_closed_file_counts_until_its_writer_has_closed_its_connection(tmp_path: Path) -> None:
    # A closed file's writer thread closes its connection when it next runs, and SQLite keeps the file's
    # closed read connections' descriptors until then. On a busy machine that thread ran late, and the
    # files opened meanwhile took the store past its descriptor budget. Here the thread is kept busy on
    # purpose: the next file opens only once it is done.
    store = SqliteStore(tmp_path, max_open=1)
    gate = threading.Event()
    try:
        held, other = [await store.namespace((await store.create_namespace(t)).id) for t in ("held", "other")]
        for namespace in (held, other):
            await namespace.put(b"k", namespace.namespace_id.encode(), None, None)
        assert await held.get(b"k") == Entry(held.namespace_id.encode(), 32, None, None)
        file = store.pool.get(held.namespace_id)
        assert file is not None
        file.writer.submit_nowait(lambda connection: gate.wait(EVENTUALLY_TIMEOUT))
        opening = asyncio.ensure_future(other.get(b"k"))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not opening.done()  # waiting for the held file's writer, which still has it open
        assert _open_ids(store) == set()
        assert _descriptors_under(store.kv_dir / other.namespace_id) == 0
        gate.set()
        assert await asyncio.wait_for(opening, EVENTUALLY_TIMEOUT) == Entry(other.namespace_id.encode(), 32, None, None)
        assert _open_ids(store) == {other.namespace_id}
        assert _descriptors_under(store.kv_dir / held.namespace_id) == 0
    finally:
        gate.set()
        await store.close()


async def test_the_least_recently_used_idle_file_is_closed_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, max_open=2)
    try:
        a, b, c = [await store.namespace((await store.create_namespace(title)).id) for title in "abc"]
        for namespace in (a, b, a):
            await namespace.get(b"k")
        await c.put(b"k", b"v", None, None)
        assert _open_ids(store) == {a.namespace_id, c.namespace_id}
        assert await b.get(b"k") is None  # opened again on use
        assert _open_ids(store) == {b.namespace_id, c.namespace_id}
    finally:
        await store.close()


async def test_a_file_in_use_is_never_closed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path, max_open=1, lock_timeout=60)
    try:
        titles = ("streamed", "locked", "x", "y")
        streamed, locked, *others = [await store.namespace((await store.create_namespace(t)).id) for t in titles]
        value = os.urandom(4 * MIB)
        await streamed.put(b"big", value, None, None)
        stream = await streamed.open(b"big")
        assert stream is not None
        first = await anext(stream.chunks)
        with holding_write_lock(store.namespace_path(locked.namespace_id)):
            waiting = asyncio.ensure_future(locked.put(b"k", b"v", None, None))
            for namespace in others:
                await namespace.put(b"k", b"v", None, None)
                assert await namespace.get(b"k") == Entry(b"v", 1, None, None)
            assert {streamed.namespace_id, locked.namespace_id} <= _open_ids(store)  # in use: kept open
        await asyncio.wait_for(waiting, EVENTUALLY_TIMEOUT)
        assert first + b"".join([chunk async for chunk in stream.chunks]) == value
        await others[0].get(b"k")
        assert _open_ids(store) == {others[0].namespace_id}  # back within capacity once released
    finally:
        await store.close()


def test_the_pool_takes_a_quarter_of_the_descriptor_limit() -> None:
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
        assert default_capacity() * FDS_PER_FILE == 1024 // 4
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
