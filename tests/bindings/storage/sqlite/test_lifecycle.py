"""Deleting and creating namespaces in the SQLite engine: tombstones, file names, and what a crash leaves.

The engine-neutral behaviour (a deleted namespace takes no write; one created again takes them) is in
``../test_contract.py``. Here: how the files make it so, with the read cache on, off, and without the
WAL-index header; and the states a delete killed at each step leaves on disk, which the next store to
start must resolve. Those states are made with plain ``sqlite3``, as a process killed between two
steps leaves them.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, NamespaceNotFoundError, SqliteStore
from bindings.errors import KVError
from bindings.storage.base import Entry

pytestmark = pytest.mark.anyio

FIXED_ID = "0f2ac74b498b48028cb68387c421e279"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _execute(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def _kv_files(store: SqliteStore) -> list[str]:
    """The store's files, leaving out the -wal and -shm files SQLite keeps beside open ones."""
    return sorted(name for name in os.listdir(store.kv_dir) if not name.endswith(("-wal", "-shm")))


async def _filled(store: SqliteStore, title: str = "ns", namespace_id: str | None = FIXED_ID) -> Path:
    info = await store.create_namespace(title, namespace_id)
    storage = await store.namespace(info.id)
    for n in range(5):
        await storage.put(f"k{n}".encode(), b"old value", None, None)
    return store.namespace_path(info.id)


# --- readers notice a deleted file, whatever their cache --------------------------------------------


@pytest.mark.parametrize("reading", ["cached", "cache off", "no WAL index"])
async def test_a_reader_of_a_deleted_file_follows_the_namespace_created_again(tmp_path: Path, reading: str) -> None:
    first = SqliteStore(tmp_path, read_cache=reading != "cache off")
    second = SqliteStore(tmp_path)
    try:
        await _filled(first)
        storage = await first.namespace(FIXED_ID)
        assert await storage.get(b"k0") == Entry(b"old value", 9, None, None)
        if reading == "no WAL index":
            file, _, _ = await storage._reader()
            file.readers._index, file.readers._index_tried = None, True  # checks ask PRAGMA data_version
        assert await storage.get(b"k0") == Entry(b"old value", 9, None, None)
        await second.delete_namespace(FIXED_ID)
        with pytest.raises(NamespaceNotFoundError):
            await storage.get(b"k0")  # not the deleted file's stale value
        await second.create_namespace("again", FIXED_ID)
        await (await second.namespace(FIXED_ID)).put(b"k0", b"new", None, None)
        assert await storage.get(b"k0") == Entry(b"new", 3, None, None)
        assert await storage.get(b"k1") is None
    finally:
        await first.close()
        await second.close()


async def test_a_binding_of_a_deleted_namespace_raises_kv_error_404(tmp_path: Path) -> None:
    first, second = SqliteStore(tmp_path), SqliteStore(tmp_path)
    try:
        await _filled(first)
        kv = KVNamespace(await first.namespace(FIXED_ID), ManualClock(1000))
        assert await kv.get("k0") == "old value"
        await second.delete_namespace(FIXED_ID)
        for call, op in [
            (kv.put("k", "v"), "PUT"),
            (kv.delete("k0"), "DELETE"),
            (kv.get("k0"), "GET"),
            (kv.get(["k0", "k1"]), "GET_BULK"),
            (kv.list(), "GET"),
        ]:
            with pytest.raises(KVError) as caught:
                await call
            assert (caught.value.status, str(caught.value)) == (404, f"KV {op} failed: 404 namespace not found")
    finally:
        await first.close()
        await second.close()


# --- files --------------------------------------------------------------------------------------------


async def test_a_namespace_created_again_gets_a_file_of_its_own(store: SqliteStore) -> None:
    # A process may still hold the old file open, and SQLite removes a file's -wal by name when its
    # last connection closes: a new file under the old name could lose its log.
    first = await _filled(store)
    assert first.name == f"{FIXED_ID}.sqlite3"
    await store.delete_namespace(FIXED_ID)
    await store.create_namespace("again", FIXED_ID)
    second = store.namespace_path(FIXED_ID)
    assert second.name == f"{FIXED_ID}.2.sqlite3"
    assert _kv_files(store) == sorted(["catalog.sqlite3", second.name])
    assert await (await store.namespace(FIXED_ID)).get(b"k0") is None


async def test_a_delete_leaves_a_tombstone_in_the_file_for_anyone_still_writing_it(store: SqliteStore) -> None:
    # A process that opened the file before the delete still writes to it; the tombstone makes its
    # transaction fail instead of committing into a deleted file.
    path = await _filled(store)
    elsewhere = sqlite3.connect(path, isolation_level=None)
    try:
        assert elsewhere.execute("SELECT count(*) FROM entries").fetchone() == (5,)
        await store.delete_namespace(FIXED_ID)
        assert not path.exists()
        assert elsewhere.execute("SELECT count(*) FROM tombstone").fetchone() == (1,)
    finally:
        elsewhere.close()


async def test_files_made_before_the_tombstone_gain_it(store: SqliteStore) -> None:
    path = await _filled(store)
    await store.close()
    _execute(path, "DROP TABLE tombstone", "PRAGMA user_version = 1")  # the schema before it
    reopened = SqliteStore(store.root)
    try:
        storage = await reopened.namespace(FIXED_ID)
        assert await storage.get(b"k0") == Entry(b"old value", 9, None, None)
        await storage.put(b"k9", b"v", None, None)  # the first write brings the file up to date
        assert _rows(path, "PRAGMA user_version") == [(2,)] and _rows(path, "SELECT * FROM tombstone") == []
        await reopened.delete_namespace(FIXED_ID)
        assert await reopened.list_namespaces() == []
    finally:
        await reopened.close()


async def test_a_store_made_before_generations_and_tombstones_is_brought_up_to_date(tmp_path: Path) -> None:
    kv = tmp_path / "kv"
    kv.mkdir()
    _execute(
        kv / "catalog.sqlite3",
        "PRAGMA journal_mode = WAL",
        "CREATE TABLE namespaces (id TEXT PRIMARY KEY, title TEXT NOT NULL UNIQUE, created_on TEXT NOT NULL)",
        f"INSERT INTO namespaces VALUES ('{FIXED_ID}', 'old', '2026-01-01T00:00:00.000+00:00')",
        "PRAGMA user_version = 1",
    )
    _execute(
        kv / f"{FIXED_ID}.sqlite3",
        "PRAGMA journal_mode = WAL",
        "CREATE TABLE entries (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, expiration INTEGER, "
        "metadata TEXT, size INTEGER NOT NULL, value BLOB NOT NULL)",
        "INSERT INTO entries (key, size, value) VALUES (x'6b', 3, x'6f6c64')",
        "PRAGMA user_version = 1",
    )
    store = SqliteStore(tmp_path)
    try:
        assert [info.title for info in await store.list_namespaces()] == ["old"]
        assert _rows(kv / "catalog.sqlite3", "PRAGMA user_version") == [(3,)]
        assert await store.read_setting("any") is None and await store.write_setting("any", "set", expected=None)
        assert store.namespace_path(FIXED_ID) == kv / f"{FIXED_ID}.sqlite3"
        storage = await store.namespace(FIXED_ID)
        assert await storage.get(b"k") == Entry(b"old", 3, None, None)
        await storage.put(b"k", b"new", None, None)
        await store.delete_namespace(FIXED_ID)
        await store.create_namespace("old", FIXED_ID)
        assert store.namespace_path(FIXED_ID) == kv / f"{FIXED_ID}.2.sqlite3"
    finally:
        await store.close()


# --- what a delete killed at each step leaves, and the next start ----------------------------------


async def test_a_file_a_killed_delete_left_without_its_row_never_brings_keys_back(tmp_path: Path) -> None:
    # Killed after the catalog row went and before the file did (the order before tombstones):
    # creating the id again, as kv.yaml does at the next start, must start empty.
    store = SqliteStore(tmp_path)
    path = await _filled(store)
    await store.close()
    _execute(path.parent / "catalog.sqlite3", f"DELETE FROM namespaces WHERE id = '{FIXED_ID}'")
    store = SqliteStore(tmp_path)
    try:
        await store.create_namespace("again", FIXED_ID)
        storage = await store.namespace(FIXED_ID)
        assert await storage.get(b"k0") is None
        assert await storage.list(b"", None, 10, 0) == ([], False)
    finally:
        await store.close()


async def test_a_delete_killed_after_its_tombstone_is_finished_at_the_next_start(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    path = await _filled(store)
    await store.close()
    Path(f"{path}-deleting").touch()
    _execute(path, "INSERT INTO tombstone VALUES ('2026-01-01T00:00:00.000+00:00')")
    store = SqliteStore(tmp_path)
    try:
        assert await store.list_namespaces() == []
        assert _kv_files(store) == ["catalog.sqlite3"]
        await store.create_namespace("again", FIXED_ID)
        assert await (await store.namespace(FIXED_ID)).get(b"k0") is None
    finally:
        await store.close()


async def test_a_delete_killed_before_its_tombstone_leaves_the_namespace_whole(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    path = await _filled(store)
    await store.close()
    Path(f"{path}-deleting").touch()
    store = SqliteStore(tmp_path)
    try:
        assert [info.id for info in await store.list_namespaces()] == [FIXED_ID]
        storage = await store.namespace(FIXED_ID)
        assert [row[0] for row in (await storage.list(b"", None, 10, 0))[0]] == [f"k{n}".encode() for n in range(5)]
        assert _kv_files(store) == sorted(["catalog.sqlite3", path.name])
    finally:
        await store.close()


async def test_a_delete_killed_after_unlinking_is_finished_at_the_next_start(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    path = await _filled(store)
    await store.close()
    Path(f"{path}-deleting").touch()
    path.unlink()
    store = SqliteStore(tmp_path)
    try:
        assert await store.list_namespaces() == []
        assert _kv_files(store) == ["catalog.sqlite3"]
    finally:
        await store.close()


async def test_a_create_killed_before_its_row_leaves_nothing_at_the_next_start(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    await store.create_namespace("kept")
    await store.close()
    kv = tmp_path / "kv"
    _execute(kv / f"{FIXED_ID}.sqlite3-creating-0123456789abcdef", "CREATE TABLE t (x)")  # still being built
    _execute(kv / f"{FIXED_ID}.sqlite3", "CREATE TABLE entries (x)")  # put in place, row not committed
    (kv / "notes.txt").write_text("not ours")
    store = SqliteStore(tmp_path)
    try:
        assert [info.title for info in await store.list_namespaces()] == ["kept"]
        kept = (await store.find_namespace("kept")).id  # type: ignore[union-attr]
        assert _kv_files(store) == sorted(["catalog.sqlite3", f"{kept}.sqlite3", "notes.txt"])
    finally:
        await store.close()


async def test_a_clean_store_starts_without_writing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    await _filled(store)
    await store.close()
    catalog = tmp_path / "kv" / "catalog.sqlite3"
    before = os.stat(catalog).st_mtime_ns, _kv_files(store)
    store = SqliteStore(tmp_path)
    try:
        assert [info.id for info in await store.list_namespaces()] == [FIXED_ID]
    finally:
        await store.close()
    assert (os.stat(catalog).st_mtime_ns, _kv_files(store)) == before



# --- deletes and creates killed at random moments ---------------------------------------------------


def _churn(persist: Path, run: int, rng: random.Random) -> list[str]:
    """Run ``namespace_churn_proc`` and SIGKILL it a few milliseconds into a delete or create; returns its
    lines (``try`` and ``ok`` steps) up to the kill."""
    command = [sys.executable, "-m", "tests.bindings.namespace_churn_proc", str(persist), str(run)]
    process = subprocess.Popen([*command, str(rng.randrange(10**6))], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    target, wanted = rng.choice(["try delete", "try create"]), rng.randint(1, 6)
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        wanted -= line.startswith(target)
        if not wanted:
            time.sleep(rng.uniform(0, 0.015))  # into the step: its files and commits
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lines += [line.rstrip("\n") for line in process.stdout]
    process.stdout.close()
    return lines


async def test_deletes_and_creates_killed_at_random_moments_lose_nothing_and_bring_nothing_back(tmp_path: Path) -> None:
    rng = random.Random(20260521)
    expected: dict[str, tuple[str, dict[str, bytes]] | None] = {}  # id -> (title, keys), None if deleted
    for run in range(8):
        steps = _replay(_churn(tmp_path, run, rng), expected)
        store = SqliteStore(tmp_path)  # starts, and cleans up after the killed process
        try:
            problems = [await _check(store, namespace_id, expected, steps) for namespace_id in IDS]
            assert not any(problems), (run, problems)
            left = sorted(name for name in os.listdir(store.kv_dir) if not name.endswith(("-wal", "-shm")))
            files = [store.namespace_path(namespace_id).name for namespace_id, state in expected.items() if state]
            assert left == sorted(["catalog.sqlite3", *files]), run
        finally:
            await store.close()


IDS = ["a" * 32, "b" * 32, "c" * 32]
REPO = Path(__file__).resolve().parents[4]


def _replay(lines: list[str], expected: dict[str, tuple[str, dict[str, bytes]] | None]) -> dict[str, list[str]]:
    """Apply the acknowledged steps to ``expected``; returns the step in flight at the kill, by id."""
    in_flight: dict[str, list[str]] = {}
    for line in lines:
        word, *step = line.split(" ")
        if word == "try":
            in_flight = {step[1]: step}
            continue
        in_flight = {}
        kind, namespace_id = step[0], step[1]
        if kind == "create":
            expected[namespace_id] = (step[2], {})
        elif kind == "delete":
            expected[namespace_id] = None
        else:
            label, keys = step[2], step[3].split(",")
            entry = expected[namespace_id]
            assert entry is not None and entry[0] == label
            entry[1].update({key: f"{label}:{key}".encode() for key in keys})
    return in_flight


async def _check(
    store: SqliteStore,
    namespace_id: str,
    expected: dict[str, tuple[str, dict[str, bytes]] | None],
    steps: dict[str, list[str]],
) -> str:
    """The namespace on disk against what was acknowledged, or the step in flight; updates ``expected``."""
    pending = steps.get(namespace_id)
    info = await store.get_namespace(namespace_id)
    found: dict[str, bytes] = {}
    if info is not None:
        storage = await store.namespace(namespace_id)
        rows, _ = await storage.list(b"", None, 1000, 0)
        entries = await storage.get_many([row[0] for row in rows])
        found = {row[0].decode(): entry.value for row, entry in zip(rows, entries, strict=True) if entry is not None}
    state = None if info is None else (info.title, found)
    known = expected.get(namespace_id)
    outcomes = [known]
    if pending is not None and pending[0] == "create":
        outcomes.append((pending[2], {}))
    elif pending is not None and pending[0] == "delete":
        outcomes.append(None)
    elif pending is not None and known is not None:
        keys = pending[3].split(",")
        outcomes.append((known[0], {**known[1], **{key: f"{known[0]}:{key}".encode() for key in keys}}))
    if state in outcomes:
        expected[namespace_id] = state
        return ""
    stale = [key for key, value in found.items() if known is None or not value.startswith(f"{known[0]}:".encode())]
    what = f"keys of a deleted namespace back: {stale}" if stale else f"found {state}, expected one of {outcomes}"
    return f"{namespace_id[:4]}: {what}"
