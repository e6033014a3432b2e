"""open_store: one location string names the engine and everything it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindings import SqliteStore, StorageError, open_store, sqlite_location
from bindings.storage.encryption import KeyedStore
from bindings.storage.engines import ENGINES, open_engine, scheme_of
from bindings.storage.redis import RedisStore

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("location", "scheme"),
    [
        ("/abs/dir", None),
        ("relative/dir", None),
        ("./data:v2", None),
        ("C:\\data", None),  # a drive letter, not a scheme
        ("sqlite:///abs/dir", "sqlite"),
        ("SQLite:///abs/dir", "sqlite"),
        ("redis://localhost:6379/0", "redis"),
        ("unix:///run/redis.sock", "unix"),
    ],
)
def test_a_location_names_its_engine_by_its_scheme(location: str, scheme: str | None) -> None:
    assert scheme_of(location) == scheme


async def test_a_plain_path_is_a_sqlite_store_in_that_directory(tmp_path: Path) -> None:
    for location in (str(tmp_path / "data"), tmp_path / "data"):
        store = open_engine(location)
        assert isinstance(store, SqliteStore) and store.root == tmp_path / "data"
        assert store.read_cache
        await store.close()
    assert not (tmp_path / "data").exists()  # opening does no I/O


async def test_a_sqlite_url_is_a_sqlite_store_with_its_options(tmp_path: Path) -> None:
    store = open_engine(f"SQLITE://{tmp_path}/data?read_cache=off")
    assert isinstance(store, SqliteStore)
    assert (store.root, store.read_cache) == (tmp_path / "data", False)
    await store.close()


@pytest.mark.parametrize("location", ["memcached://x", "data:text/plain,hi", "rediss+sentinel://x"])
def test_an_unknown_scheme_is_refused_naming_the_supported_ones(location: str) -> None:
    scheme = location.split(":")[0]
    message = (
        f"unknown storage scheme '{scheme}' in '{location}'; "
        "supported: a directory path, or a URL starting redis:, rediss:, sqlite:, unix:"
    )
    with pytest.raises(StorageError) as caught:
        open_store(location)
    assert str(caught.value) == message


def test_an_empty_location_is_refused() -> None:
    with pytest.raises(StorageError, match="^the storage location is empty; supported: a directory path, or a URL"):
        open_store("")


def test_every_engine_is_built_from_its_location(tmp_path: Path) -> None:
    assert set(ENGINES) == {"sqlite", "redis", "rediss", "unix"}
    assert isinstance(ENGINES["sqlite"](sqlite_location(tmp_path)), SqliteStore)
    for location in ("redis://127.0.0.1:1/0", "rediss://127.0.0.1:1/0", "unix:///nowhere/redis.sock"):
        assert isinstance(ENGINES[scheme_of(location) or ""](location), RedisStore)


async def test_a_redis_location_is_a_redis_store_that_connects_on_first_use() -> None:
    # Port 1 has no server: building the store, and closing it unused, never connects.
    store = open_engine("REDIS://user:secret@127.0.0.1:1/3?prefix=team-a&timeout=0.5")
    assert isinstance(store, RedisStore)
    assert store.location == "redis://user:***@127.0.0.1:1/3?prefix=team-a"
    assert "secret" not in repr(store)
    await store.close()


async def test_open_store_gives_the_engine_inside_a_key_check(tmp_path: Path) -> None:
    from bindings.storage.encryption import EncryptionKey, new_key_text

    key = EncryptionKey.from_text(new_key_text(), "test")
    for given in (None, key):
        store = open_store(sqlite_location(tmp_path), key=given)
        assert isinstance(store, KeyedStore) and isinstance(store.inner, SqliteStore) and store.key is given
        assert store.root == tmp_path  # the engine's own attributes, through it
        await store.close()
