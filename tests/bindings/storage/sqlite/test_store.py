"""The SQLite engine's own machinery: file layout, indexes, durability, other processes, page caps,
memory use of large values, and what expiry upkeep does to the files.

What every engine must do is in ``../test_contract.py``, which runs on this engine too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, NamespaceNotFoundError, SqliteStore
from bindings.catalog import MAX_NAMESPACES
from bindings.errors import NamespaceLimitError, StorageFullError
from bindings.storage.base import Write
from bindings.storage.sqlite import namespace as engine, streams, upkeep
from bindings.storage.sqlite.pool import OpenFile

from ...writer_proc import value_for

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[4]
MIB = 1024 * 1024


def _writer_process(persist: Path, namespace_id: str, tag: str, count: int, concurrency: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bindings.writer_proc",
            str(persist),
            namespace_id,
            tag,
            str(count),
            str(concurrency),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


async def _open_file(kv: KVNamespace) -> OpenFile:
    """The namespace's file, open in its store's pool."""
    storage = kv.service.storage
    assert isinstance(storage, engine.SqliteNamespace)
    return await storage._open()


async def _namespace(store: SqliteStore, clock: ManualClock, title: str = "ns") -> tuple[KVNamespace, Path]:
    info = await store.create_namespace(title)
    return KVNamespace(await store.namespace(info.id), clock), store.namespace_path(info.id)


# --- layout and catalog ---------------------------------------------------------------------------


async def test_one_sqlite_file_per_namespace_plus_a_catalog(store: SqliteStore) -> None:
    first = await store.create_namespace("first")
    second = await store.create_namespace("second")
    assert len(first.id) == 32 and int(first.id, 16) >= 0 and first.id == first.id.lower()
    files = sorted(path.name for path in store.kv_dir.glob("*.sqlite3"))
    assert files == sorted(["catalog.sqlite3", f"{first.id}.sqlite3", f"{second.id}.sqlite3"])
    assert _rows(store.namespace_path(first.id), "PRAGMA journal_mode") == [("wal",)]
    assert _rows(store.kv_dir / "catalog.sqlite3", "SELECT id, title FROM namespaces ORDER BY title") == [
        (first.id, "first"),
        (second.id, "second"),
    ]


async def test_data_is_readable_with_the_sqlite3_shell_model(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("héllo", "wörld", metadata={"a": 1})
    assert _rows(path, "SELECT key, value, metadata FROM entries") == [("héllo".encode(), "wörld".encode(), '{"a":1}')]


async def test_delete_namespace_removes_its_file(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("key", "value")
    info = (await store.list_namespaces())[0]
    await store.delete_namespace(info.id)
    assert not path.exists() and not Path(f"{path}-wal").exists()
    assert await store.list_namespaces() == []
    with pytest.raises(NamespaceNotFoundError):
        await store.namespace(info.id)


async def test_a_namespace_refused_at_the_limit_leaves_no_file_behind(store: SqliteStore) -> None:
    # The catalog is filled directly (a thousand creations are the contract suite's to time): the
    # refused namespace's file was created before the catalog said no, and must be gone again.
    await store.list_namespaces()  # creates the catalog file
    with sqlite3.connect(store.kv_dir / "catalog.sqlite3") as connection:
        rows = [(f"{i:032x}", f"ns{i:04}", "2026-01-01T00:00:00.000+00:00") for i in range(MAX_NAMESPACES)]
        connection.executemany("INSERT INTO namespaces (id, title, created_on) VALUES (?, ?, ?)", rows)
    with pytest.raises(NamespaceLimitError, match="at most 1000 namespaces"):
        await store.create_namespace("one too many")
    assert len(await store.list_namespaces()) == 1000
    assert [path.name for path in store.kv_dir.glob("*.sqlite3")] == ["catalog.sqlite3"]


# --- every operation is indexed -------------------------------------------------------------------


async def test_every_statement_is_an_index_search(store: SqliteStore, clock: ManualClock) -> None:
    _, path = await _namespace(store, clock)
    statements = [
        engine._GET,
        engine._GET_FULL,
        streams._GET_ROWID,
        engine._LIST_FROM,
        engine._LIST_AFTER,
        engine._UPSERT,
        engine._DELETE,
        upkeep.DISCARD_EXPIRED,
        upkeep.ANY_EXPIRED,
        upkeep.PURGE,
        "SELECT key, size FROM entries WHERE key IN (?, ?, ?)",
    ]
    with sqlite3.connect(path) as connection:
        for sql in statements:
            parameters = [None] * sql.count("?")
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
            scans = [step for step in plan if step.startswith("SCAN") and "entries" in step]
            assert not scans, f"{sql!r} scans the table: {plan}"


async def test_list_reads_only_its_page(store: SqliteStore, clock: ManualClock) -> None:
    # Count SQLite VM steps for the same page query in a small and a 100x larger namespace.
    steps = []
    for title, count in [("small", 200), ("large", 20_000)]:
        kv, _ = await _namespace(store, clock, title)
        await kv.service.storage.put_many(
            [engine.Write(f"k{i:06}".encode(), b"v") for i in range(count)]  # type: ignore[attr-defined]
        )
        connection = (await _open_file(kv)).readers.get()
        counter = [0]

        def tick(counter: list[int] = counter) -> int:
            counter[0] += 1
            return 0

        connection.set_progress_handler(tick, 10)
        page = await kv.list(prefix="k0001", limit=10, cursor="azAwMDEwMA==")  # after "k000100"
        connection.set_progress_handler(None, 10)
        assert [key.name for key in page.keys] == [f"k{i:06}" for i in range(101, 111)]
        steps.append(counter[0])
    assert steps[1] <= steps[0] * 1.5, steps


# --- durability and other processes ---------------------------------------------------------------


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    info = await store.create_namespace("crash")
    await store.close()
    process = _writer_process(tmp_path, info.id, "w", 1_000_000, 16)
    acknowledged = []
    assert process.stdout is not None
    for line in process.stdout:
        acknowledged.append(line.split()[1])
        if len(acknowledged) >= 400:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    process.stderr.close()  # type: ignore[union-attr]

    store = SqliteStore(tmp_path)
    try:
        kv = KVNamespace(await store.namespace(info.id))
        values = {}
        for start in range(0, len(acknowledged), 100):
            values.update(await kv.get_with_metadata(acknowledged[start : start + 100]))
        missing = [key for key, result in values.items() if result is None]
        assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {missing[:3]}"
        for key, result in values.items():
            assert result == {"value": value_for(key), "metadata": {"tag": "w"}}
    finally:
        await store.close()
    assert _rows(tmp_path / "kv" / f"{info.id}.sqlite3", "PRAGMA integrity_check") == [("ok",)]


async def test_two_processes_write_one_namespace(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    info = await store.create_namespace("together")
    processes = [_writer_process(tmp_path, info.id, tag, 250, 8) for tag in ("a", "b")]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert "locked" not in stderr
    kv = KVNamespace(await store.namespace(info.id))
    try:
        page = await kv.list(limit=1000)
        names = [key.name for key in page.keys]
        assert len([name for name in names if name.startswith(("a-", "b-"))]) == 500
        assert (await kv.get("shared")).split("-")[0] in ("a", "b")
    finally:
        await store.close()


async def test_a_write_from_another_process_is_seen_at_once(store: SqliteStore, clock: ManualClock) -> None:
    info = await store.create_namespace("seen")
    kv = KVNamespace(await store.namespace(info.id), clock)
    await kv.put("shared", "before")
    assert await kv.get("shared") == "before"  # warm any read path
    process = _writer_process(store.root, info.id, "other", 1, 1)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert await kv.get("shared") == "other-000000"
    assert await kv.get("other-000000") == value_for("other-000000")


async def test_concurrent_writes_share_commits(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    commits = []
    writer = (await _open_file(kv)).writer
    original = writer._commit

    def counting(jobs: list[object]) -> None:
        commits.append(len(jobs))
        original(jobs)  # type: ignore[arg-type]

    writer._commit = counting  # type: ignore[method-assign]
    await asyncio.gather(*(kv.put(f"k{i}", "v") for i in range(200)))
    assert sum(commits) == 200
    assert len(commits) < 100, f"200 concurrent writes took {len(commits)} commits"
    assert len((await kv.list()).keys) == 200


async def test_no_write_hands_a_live_cursor_to_the_event_loop(store: SqliteStore, clock: ManualClock) -> None:
    # A cursor from executemany keeps one of the connection's cached statements, and dropping it resets
    # that statement: on the event loop, while the writer thread ran it for another write, that write
    # failed with "bad parameter or other API misuse" (found by the crash campaign).
    kv, path = await _namespace(store, clock)
    namespace = await store.namespace(path.stem)
    rows = [(b"a", None, None, 1, b"1"), (b"b", None, None, 1, b"2")]
    sql = "INSERT INTO entries (key, expiration, metadata, size, value) VALUES (?, ?, ?, ?, ?)"
    cursor = await (await _open_file(kv)).writer.submit(lambda connection: connection.executemany(sql, rows))
    with pytest.raises(sqlite3.ProgrammingError, match="closed cursor"):
        cursor.fetchall()  # closed on the writer thread, before it was handed over
    writes = [Write(b"c", b"3", None, None), Write(b"d", b"4", None, None)]
    assert await namespace.put_many(writes) is None
    assert await namespace.delete_many([b"c", b"d"]) is None
    assert await namespace.put(b"e", b"5", None, None) is None
    assert await namespace.delete(b"e") is None


async def test_a_full_store_fails_that_write_and_keeps_earlier_data(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("before", "kept")
    writer_connection = (await _open_file(kv)).writer._connection
    assert writer_connection is not None
    (pages,) = writer_connection.execute("PRAGMA page_count").fetchone()
    writer_connection.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StorageFullError, match="full"):
        await kv.put("big", b"x" * MIB)
    assert await kv.get("before") == "kept"
    assert await kv.get("big") is None
    writer_connection.execute("PRAGMA max_page_count = 1073741823")
    await kv.put("after", "works")
    assert await kv.get("after") == "works"


async def _fill_until_full(kv: KVNamespace, prefix: str) -> int:
    """Write 64 KiB values until the store refuses one; returns how many were stored."""
    for n in range(10_000):
        try:
            await kv.put(f"{prefix}{n}", b"x" * 65536)
        except StorageFullError:
            return n
    raise AssertionError("the store never filled up")


async def test_a_store_opened_with_max_pages_refuses_writes_past_them(tmp_path: Path, clock: ManualClock) -> None:
    store = SqliteStore(tmp_path, max_pages=64)  # 256 KiB per file
    try:
        kv, path = await _namespace(store, clock)
        stored = await _fill_until_full(kv, "k")
        assert 0 < stored < 5
        assert [await kv.get(f"k{n}", type="bytes") for n in range(stored)] == [b"x" * 65536] * stored
        await kv.delete("k0")  # freed pages are reused: deleting makes room again
        await kv.put("again", b"y" * 65536)
        assert await kv.get("again") == "y" * 65536
    finally:
        await store.close()
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]


async def test_set_max_pages_caps_open_files_and_lifting_it_lets_writes_in(
    store: SqliteStore, clock: ManualClock
) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("before", "kept")
    await store.set_max_pages(1)  # never below the file's size: nothing may grow from here
    with pytest.raises(
        StorageFullError, match=r"^the store is full; the write was not applied \(database or disk is full\)$"
    ):
        await kv.put("big", b"x" * MIB)
    other, _ = await _namespace(store, clock, "opened after the cap")
    with pytest.raises(StorageFullError):
        await other.put("big", b"x" * MIB)
    assert await kv.get("before") == "kept" and await kv.get("big") is None
    await store.set_max_pages(None)
    await kv.put("big", b"x" * MIB)
    await other.put("big", b"x" * MIB)
    assert len(await kv.get("big", type="bytes")) == MIB
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]


# --- large values ---------------------------------------------------------------------------------


async def test_25_mib_value_round_trips_with_at_most_a_couple_of_copies(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)
    value = os.urandom(25 * MIB)
    tracemalloc.start()
    try:
        await kv.put("big", value)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got = await kv.get("big", "bytes")
        _, get_peak = tracemalloc.get_traced_memory()
        assert got == value
        del got
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        total = 0
        async for chunk in await kv.get("big", "stream"):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
        stream_peak = peak - before
    finally:
        tracemalloc.stop()
    assert total == len(value)
    assert put_peak < 2 * MIB, put_peak  # the caller's bytes are passed down, not copied
    assert get_peak < 2 * 25 * MIB + MIB, get_peak
    assert stream_peak < 4 * MIB, stream_peak


async def test_streamed_put_of_25_mib_holds_about_one_copy(store: SqliteStore, clock: ManualClock) -> None:
    kv, _ = await _namespace(store, clock)

    async def chunks() -> object:
        for _ in range(25):
            yield b"y" * MIB

    tracemalloc.start()
    try:
        await kv.put("big", chunks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 25 * MIB, peak
    assert len(await kv.get("big", "bytes")) == 25 * MIB


# --- expiry upkeep --------------------------------------------------------------------------------


async def test_reading_an_expired_key_deletes_its_row(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("key", "value", expiration_ttl=60)
    clock.advance(61)
    assert await kv.get("key") is None
    await kv.put("barrier", "v")  # the writer applies jobs in order: the lazy delete is done
    assert _rows(path, "SELECT key FROM entries") == [(b"barrier",)]


async def test_purge_deletes_expired_rows_and_disk_use_does_not_grow(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    sizes = []
    for cycle in range(5):
        writes = [engine.Write(f"c{cycle}-{i:05}".encode(), b"v" * 500, int(clock.now()) + 60) for i in range(2000)]
        await kv.service.storage.put_many(writes)  # type: ignore[arg-type]
        clock.advance(61)
        assert await store.purge_expired(clock.now()) == 2000
        assert _rows(path, "SELECT count(*) FROM entries") == [(0,)]
        sizes.append(sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*")))
    # The first cycle grows the file; later cycles reuse the pages the purge freed.
    assert sizes[-1] <= max(sizes[:2]) * 1.1, sizes


async def test_purge_of_an_idle_namespace_writes_nothing(store: SqliteStore, clock: ManualClock) -> None:
    kv, path = await _namespace(store, clock)
    await kv.put("forever", "v")
    version = _rows(path, "PRAGMA data_version")
    assert await store.purge_expired(clock.now()) == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM entries").fetchone() == (1,)
    assert version == _rows(path, "PRAGMA data_version")


async def test_opening_an_existing_store_writes_nothing(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path)
    await first.create_namespace("ns")
    await first.close()
    catalog = tmp_path / "kv" / "catalog.sqlite3"
    with sqlite3.connect(catalog) as connection:
        before = connection.execute("PRAGMA data_version").fetchone()
        second = SqliteStore(tmp_path)
        assert [info.title for info in await second.list_namespaces()] == ["ns"]
        await second.close()
        assert connection.execute("PRAGMA data_version").fetchone() == before
