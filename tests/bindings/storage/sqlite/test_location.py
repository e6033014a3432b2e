"""The SQLite engine's location strings: built from a directory and options, read back, and obeyed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bindings import KVNamespace, ManualClock, SqliteStore, StorageError, open_store, sqlite_location
from bindings.errors import StorageFullError, StorageLockedError
from bindings.storage.durability import durability_of
from bindings.storage.encryption import KeyedStore
from bindings.storage.sqlite.location import SqliteSettings, parse_sqlite_location

from .lock_holder import holding_write_lock

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "name", ["data", "with space", "q?uery", "hash#tag", "100%", "plus+amp&eq=", "é🎉", "a;b", "not-utf8-\udcff"]
)
def test_any_directory_name_round_trips(tmp_path: Path, name: str) -> None:
    location = sqlite_location(tmp_path / name, max_pages=100, read_cache=False)
    assert location.startswith("sqlite:///")
    assert parse_sqlite_location(location) == SqliteSettings(tmp_path / name, max_pages=100, read_cache=False)


def test_options_are_named_only_when_they_differ_from_the_defaults(tmp_path: Path) -> None:
    assert sqlite_location(tmp_path) == f"sqlite://{tmp_path}"
    assert sqlite_location(tmp_path, max_pages=60) == f"sqlite://{tmp_path}?max_pages=60"
    assert sqlite_location(tmp_path, read_cache=False) == f"sqlite://{tmp_path}?read_cache=off"
    assert sqlite_location(tmp_path, lock_timeout=5, stream_timeout=60) == f"sqlite://{tmp_path}"
    assert sqlite_location(tmp_path, lock_timeout=0.25) == f"sqlite://{tmp_path}?lock_timeout=0.25"
    assert sqlite_location(tmp_path, stream_timeout=2) == f"sqlite://{tmp_path}?stream_timeout=2.0"
    assert sqlite_location(tmp_path, sync=False) == f"sqlite://{tmp_path}?sync=off"
    assert parse_sqlite_location(f"sqlite://{tmp_path}?sync=off") == SqliteSettings(tmp_path, sync=False)
    assert parse_sqlite_location(sqlite_location(tmp_path)) == SqliteSettings(tmp_path)
    settings = parse_sqlite_location(sqlite_location(tmp_path, lock_timeout=1e-3, stream_timeout=1 / 3))
    assert (settings.lock_timeout, settings.stream_timeout) == (1e-3, 1 / 3)


def test_a_relative_directory_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_location("data") == f"sqlite://{tmp_path}/data"


@pytest.mark.parametrize(
    ("location", "settings"),
    [
        ("/abs/dir", SqliteSettings(Path("/abs/dir"))),
        ("/abs/dir?max_pages=5", SqliteSettings(Path("/abs/dir?max_pages=5"))),  # a plain path is only a path
        ("relative/dir", SqliteSettings(Path("relative/dir"))),
        ("sqlite:relative/dir", SqliteSettings(Path("relative/dir"))),
        ("sqlite:///abs/dir?read_cache=ON", SqliteSettings(Path("/abs/dir"))),
        ("sqlite:///abs/dir?read_cache=0&max_pages=%2012", SqliteSettings(Path("/abs/dir"), 12, False)),
        ("sqlite:///abs/dir?", SqliteSettings(Path("/abs/dir"))),
    ],
)
def test_plain_paths_and_sqlite_urls_are_read(location: str, settings: SqliteSettings) -> None:
    assert parse_sqlite_location(location) == settings


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("sqlite://host/dir", "a sqlite: location is a directory on this machine (sqlite:///abs/dir), not a host"),
        ("sqlite:///dir#frag", "a directory name's '#' must be written %23"),
        ("sqlite://", "names no directory"),
        ("sqlite:///d?max_pages=0", "max_pages must be a whole number of pages from 1 to 4294967294, got '0'"),
        ("sqlite:///d?max_pages=lots", "max_pages must be a whole number of pages from 1 to 4294967294, got 'lots'"),
        ("sqlite:///d?max_pages=%C2%B2", "max_pages must be a whole number of pages from 1 to 4294967294, got '²'"),
        ("sqlite:///d?read_cache=maybe", "read_cache must be on or off, got 'maybe'"),
        ("sqlite:///d?sync=later", "sync must be on or off, got 'later'"),
        ("sqlite:///d?lock_timeout=0", "lock_timeout must be a number of seconds above 0, got '0'"),
        ("sqlite:///d?stream_timeout=never", "stream_timeout must be a number of seconds above 0, got 'never'"),
        (
            "sqlite:///d?cache=off",
            "unknown option 'cache'; expected one of max_pages, read_cache, lock_timeout, stream_timeout, sync",
        ),
        ("sqlite:///d?max_pages=1&max_pages=2", "option 'max_pages' is given twice"),
        ("sqlite:///d?max_pages", "options must be name=value pairs joined by &"),
        ("redis://localhost", "is not a sqlite: location"),
    ],
)
def test_a_bad_location_is_refused_saying_why(location: str, problem: str) -> None:
    with pytest.raises(StorageError, match=re.escape(problem)):
        parse_sqlite_location(location)
    if location.startswith("sqlite:"):
        with pytest.raises(StorageError, match=re.escape(problem)):
            open_store(location)


def test_a_bad_page_cap_is_refused_when_the_location_is_built(tmp_path: Path) -> None:
    message = "max_pages must be a whole number of pages from 1 to 4294967294, got '0'"
    with pytest.raises(StorageError, match=f"^{re.escape(message)}$"):
        sqlite_location(tmp_path, max_pages=0)


async def test_a_store_opened_at_a_location_with_max_pages_refuses_writes_past_them(tmp_path: Path) -> None:
    store = open_store(sqlite_location(tmp_path, max_pages=64))  # 256 KiB per file
    assert isinstance(store, KeyedStore) and isinstance(store.inner, SqliteStore)
    try:
        info = await store.create_namespace("capped")
        kv = KVNamespace(await store.namespace(info.id), ManualClock(0))
        with pytest.raises(StorageFullError):
            for n in range(10):
                await kv.put(f"k{n}", b"x" * 65536)
        assert await kv.get("k0", type="bytes") == b"x" * 65536
    finally:
        await store.close()


async def test_a_store_opened_at_a_location_with_a_lock_timeout_waits_that_long(tmp_path: Path) -> None:
    store = open_store(sqlite_location(tmp_path, lock_timeout=0.25, stream_timeout=7))
    assert isinstance(store, KeyedStore) and isinstance(store.inner, SqliteStore) and store.inner.stream_timeout == 7
    try:
        info = await store.create_namespace("locked")
        storage = await store.namespace(info.id)
        with holding_write_lock(store.inner.namespace_path(info.id)):
            with pytest.raises(StorageLockedError, match="not free within 0.25 s; nothing was written$"):
                await storage.put(b"k", b"v", None, None)
    finally:
        await store.close()


@pytest.mark.parametrize("sync", [True, False])
async def test_a_store_with_sync_off_commits_without_syncing_and_says_it_is_not_durable(
    tmp_path: Path, sync: bool
) -> None:
    store = open_store(sqlite_location(tmp_path, sync=sync, max_pages=1000))
    assert isinstance(store, KeyedStore) and isinstance(store.inner, SqliteStore)
    try:
        info = await store.create_namespace("throwaway")
        kv = KVNamespace(await store.namespace(info.id), ManualClock(0))
        await kv.put("k", "v")
        settings: list[tuple[int, int]] = []
        file = store.inner.pool.get(info.id)
        assert file is not None
        seen = file.writer.configure(
            lambda c: settings.append(
                (c.execute("PRAGMA synchronous").fetchone()[0], c.execute("PRAGMA max_page_count").fetchone()[0])
            )
        )
        assert seen is not None
        await seen
        assert settings == [(2 if sync else 0, 1000)]  # FULL or OFF, and the page cap kept beside it
        durability = await durability_of(store)
        assert durability.durable is sync
        assert (durability.warning() is None) is sync
        assert await kv.get("k") == "v"
    finally:
        await store.close()
