"""The live feed of changes: events, the journal other processes share, and storage that records its writes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bindings import ManualClock, NamespaceNotFoundError, SqliteStore
from bindings.changes import ChangeEvent, ChangeFeed, FileJournal, Missed, feed_for, observed
from bindings.changes.events import MAX_LISTED, parse_line
from bindings.changes.feed import QUEUE_LIMIT
from bindings.changes.journal import JournalReader
from bindings.storage.base import Write

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.0


def event(op: str = "put", keys: tuple[str, ...] = ("a",), origin: str = "o1") -> ChangeEvent:
    return ChangeEvent(NOW, op, "0" * 32, keys, len(keys), "CLI", origin)


# --- events --------------------------------------------------------------------------------------


def test_an_event_survives_its_journal_line() -> None:
    original = ChangeEvent(NOW, "namespace_rename", "f" * 32, (), 0, "REST API", "abc", title='<img src=x onerror="1">')
    assert parse_line(original.line().rstrip(b"\n")) == original


def test_a_bulk_write_names_its_first_keys_and_counts_them_all() -> None:
    keys = [f"k{i}".encode() for i in range(10_000)]
    made = ChangeEvent.of_keys(NOW, "put", "0" * 32, keys, "REST API", "o")
    assert made.count == 10_000
    assert made.keys == tuple(f"k{i}" for i in range(MAX_LISTED))


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[]",
        b'{"v": 2, "at": 1, "op": "put", "namespace": "n", "keys": [], "count": 0, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": NaN, "op": "put", "namespace": "n", "keys": [], "count": 0, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": 1, "op": "drop", "namespace": "n", "keys": [], "count": 0, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": 1, "op": "put", "namespace": "n", "keys": [1], "count": 0, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": 1, "op": "put", "namespace": "n", "keys": [], "count": -1, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": true, "op": "put", "namespace": "n", "keys": [], "count": 0, "source": "s", "origin": "o"}',
        b'{"v": 1, "at": 1, "op": "put", "namespace": "n", "keys": [], "count": 0, "source": 5, "origin": "o"}',
        b"[" * 100_000,
    ],
)
def test_lines_that_are_not_events_are_dropped(line: bytes) -> None:
    assert parse_line(line) is None


# --- the journal ---------------------------------------------------------------------------------


def test_a_reader_sees_what_other_writers_append_after_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "kv" / "changes.jsonl"
    first, second = FileJournal(path), FileJournal(path)
    first.append(b"before\n")
    reader = JournalReader(path)
    first.append(b"one\n")
    second.append(b"two\nthree\n")
    assert reader.read() == [b"one", b"two", b"three"]
    assert reader.read() == []


def test_a_line_still_being_written_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    journal = FileJournal(path)
    reader = journal.reader()
    journal.append(b"whole\nhal")
    assert reader.read() == [b"whole"]
    journal.append(b"f\n")
    assert reader.read() == [b"half"]


def test_a_reader_follows_the_journal_through_rotations_without_losing_a_line(tmp_path: Path) -> None:
    path = tmp_path / "changes.jsonl"
    writers = [FileJournal(path, max_bytes=200), FileJournal(path, max_bytes=200)]
    reader = JournalReader(path)
    seen: list[bytes] = []
    for number in range(100):
        writers[number % 2].append(b"line %03d padding padding\n" % number)
        if number % 3 == 0:
            seen += reader.read()
    seen += reader.read()
    assert seen == [b"line %03d padding padding" % n for n in range(100)]
    assert path.with_name("changes.jsonl.1").exists()
    assert path.stat().st_size < 400  # rotated, never grown past its bound by much


# Follows the journal named by argv[1] until its stdin closes.
FOLLOWER = """
import pathlib, sys
from bindings.changes.journal import JournalReader
JournalReader(pathlib.Path(sys.argv[1]))
print("following", flush=True)
sys.stdin.read()
"""


def test_a_writer_sees_a_reader_in_another_process_until_it_stops_or_dies(tmp_path: Path) -> None:
    path = tmp_path / "kv" / "changes.jsonl"
    journal = FileJournal(path)
    assert not journal.watched()  # nobody ever followed it: no lock file either
    for stop in ("stdin closed", "SIGKILL"):
        with subprocess.Popen(
            [sys.executable, "-c", FOLLOWER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        ) as child:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline() == b"following\n"
            assert journal.watched() and journal.watched()  # asking leaves the reader's lock alone
            if stop == "SIGKILL":
                child.kill()
            else:
                child.stdin.close()
            child.wait(30)
        assert not journal.watched(), stop  # the kernel let the lock go with the process


def test_each_reader_counts_until_it_closes(tmp_path: Path) -> None:
    path = tmp_path / "kv" / "changes.jsonl"
    journal = FileJournal(path)
    first, second = JournalReader(path), JournalReader(path)
    assert journal.watched()
    first.close()
    assert journal.watched()
    second.close()
    second.close()  # twice is harmless
    assert not journal.watched()


def test_a_journal_that_cannot_be_written_drops_lines_and_writes_stay_unharmed(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the journal's folder should be")
    journal = FileJournal(blocker / "changes.jsonl")
    journal.append(b"line\n")  # no exception
    journal.append(b"line\n")


# --- the feed ------------------------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "data")
    yield opened
    await opened.close()


async def test_a_subscriber_gets_this_process_writes_at_once() -> None:
    feed = ChangeFeed(ManualClock(NOW))
    async with feed.subscription() as subscription:
        feed.keys_changed("put", "0" * 32, [b"k"], "worker app")
        got = await subscription.next(1)
    assert isinstance(got, ChangeEvent)
    assert (got.op, got.keys, got.source, got.at) == ("put", ("k",), "worker app", NOW)
    await feed.close()


async def test_another_process_writes_arrive_through_the_journal_and_its_own_lines_are_skipped(
    tmp_path: Path,
) -> None:
    location = str(tmp_path / "data")
    host, cli = feed_for(location, ManualClock(NOW)), feed_for(location, ManualClock(NOW))
    async with host.subscription() as subscription:
        host.keys_changed("put", "0" * 32, [b"mine"], "REST API")
        cli.keys_changed("delete", "0" * 32, [b"theirs"], "CLI")
        await cli.close()  # flushes, as the CLI does when a command ends
        first = await subscription.next(5)
        second = await subscription.next(5)
        nothing = await subscription.next(0.3)  # its own line, read back from the journal, is not repeated
    assert isinstance(first, ChangeEvent) and first.keys == ("mine",)
    assert isinstance(second, ChangeEvent) and (second.keys, second.source) == (("theirs",), "CLI")
    assert nothing is None
    lines = (tmp_path / "data" / "kv" / "changes.jsonl").read_bytes().splitlines()
    assert sorted(json.loads(line)["keys"] for line in lines) == [["mine"], ["theirs"]]
    await host.close()


async def test_with_nobody_following_nothing_is_journaled_and_a_follower_sees_what_comes_after_it(
    tmp_path: Path,
) -> None:
    location = str(tmp_path / "data")
    cli = feed_for(location, ManualClock(NOW))
    cli.keys_changed("put", "0" * 32, [b"unseen"], "CLI")
    cli.flush()
    assert not (tmp_path / "data" / "kv").exists()  # not even the folder: the write paid nothing
    host = feed_for(location, ManualClock(NOW))
    async with host.subscription() as subscription:
        cli.keys_changed("put", "0" * 32, [b"k%d" % n for n in range(MAX_LISTED + 5)], "CLI")
        cli.flush()
        got = await subscription.next(5)
    assert isinstance(got, ChangeEvent)
    assert (got.keys[0], len(got.keys), got.count, got.source) == ("k0", MAX_LISTED, MAX_LISTED + 5, "CLI")
    cli.keys_changed("put", "0" * 32, [b"after"], "CLI")  # the host stopped following: dropped again
    await cli.close()
    lines = (tmp_path / "data" / "kv" / "changes.jsonl").read_bytes().splitlines()
    assert len(lines) == 1
    await host.close()


async def test_a_redis_store_has_no_journal() -> None:
    assert feed_for("redis://127.0.0.1:6379/0", ManualClock(NOW)).journal is None


async def test_a_subscriber_that_falls_behind_is_told_how_much_it_missed() -> None:
    feed = ChangeFeed(ManualClock(NOW))
    subscription = feed.subscribe()
    for number in range(QUEUE_LIMIT + 5):
        feed.keys_changed("put", "0" * 32, [b"k%d" % number], "CLI")
    for _ in range(QUEUE_LIMIT):
        assert isinstance(await subscription.next(1), ChangeEvent)
    feed.keys_changed("put", "0" * 32, [b"after"], "CLI")
    missed = await subscription.next(1)
    assert isinstance(missed, Missed) and missed.count == 5
    after = await subscription.next(1)
    assert isinstance(after, ChangeEvent) and after.keys == ("after",)
    subscription.close()
    await feed.close()


async def test_ending_the_subscriptions_ends_every_stream_and_recording_goes_on(tmp_path: Path) -> None:
    feed = feed_for(str(tmp_path / "data"), ManualClock(NOW))
    elsewhere = JournalReader(tmp_path / "data" / "kv" / "changes.jsonl")  # another process's dashboard
    subscription = feed.subscribe()
    feed.end_subscriptions()
    assert await subscription.next(1) is None and feed.ending
    assert await feed.subscribe().next(1) is None  # a late one ends at once
    feed.keys_changed("put", "0" * 32, [b"while stopping"], "worker app")
    await feed.close()
    assert [json.loads(line)["keys"] for line in elsewhere.read()] == [["while stopping"]]
    elsewhere.close()


# --- observed storage ----------------------------------------------------------------------------


async def test_observed_storage_records_each_acknowledged_write(store: SqliteStore) -> None:
    info = await store.create_namespace("data")
    feed = ChangeFeed(ManualClock(NOW))
    storage = observed(await store.namespace(info.id), feed, info.id, "worker app")
    async with feed.subscription() as subscription:
        await storage.put(b"a", b"1", None, None)
        await storage.put_many([Write(b"b", b"2"), Write(b"c", b"3")])
        await storage.delete(b"a")
        await storage.delete_many([b"b", b"c"])
        got = [await subscription.next(1) for _ in range(4)]
    assert [(e.op, e.keys, e.count) for e in got if isinstance(e, ChangeEvent)] == [
        ("put", ("a",), 1),
        ("put", ("b", "c"), 2),
        ("delete", ("a",), 1),
        ("delete", ("b", "c"), 2),
    ]
    assert await storage.get(b"b") is None  # reads go straight through
    await feed.close()


async def test_a_refused_write_records_nothing(store: SqliteStore) -> None:
    info = await store.create_namespace("gone")
    feed = ChangeFeed(ManualClock(NOW))
    storage = observed(await store.namespace(info.id), feed, info.id, "REST API")
    await store.delete_namespace(info.id)
    async with feed.subscription() as subscription:
        with pytest.raises(NamespaceNotFoundError):
            await storage.put(b"a", b"1", None, None)
        assert await subscription.next(0.2) is None
    await feed.close()


async def test_without_a_feed_the_storage_is_the_engines_own(store: SqliteStore) -> None:
    info = await store.create_namespace("plain")
    storage = await store.namespace(info.id)
    assert observed(storage, None, info.id, "CLI") is storage


async def test_recording_outside_an_event_loop_writes_at_once(tmp_path: Path) -> None:
    feed = feed_for(str(tmp_path / "data"), ManualClock(NOW))
    reader = JournalReader(tmp_path / "data" / "kv" / "changes.jsonl")
    await asyncio.to_thread(feed.keys_changed, "put", "0" * 32, [b"threaded"], "CLI")
    assert [json.loads(line)["keys"] for line in reader.read()] == [["threaded"]]
    reader.close()
    await feed.close()
