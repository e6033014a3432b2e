"""The storage setting: which store a host, the CLI and the plugin open (README "`workerhost dev`", "Storage").

Precedence as for every setting: ``--storage``, then ``WORKERHOST_STORAGE``, then kv.yaml's
``storage:``, then SQLite in the persist directory. SQLite-only settings with another store are errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bindings.storage import sqlite_location
from runtime.config import load_config
from runtime.errors import ConfigError
from tests.support import write_files

REDIS = "redis://127.0.0.1:6390/1?prefix=team"
KV_YAML = "storage: {storage}\nkv_namespaces:\n  - title: data\n"


def _project(tmp_path: Path, storage: str | None = None, extra: str = "") -> Path:
    text = (KV_YAML.format(storage=storage) if storage else "kv_namespaces:\n  - title: data\n") + extra
    write_files(tmp_path, {"kv.yaml": text})
    return tmp_path / "kv.yaml"


def _error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, **kwargs)  # type: ignore[arg-type]
    return str(caught.value).replace(str(path), "kv.yaml")


def test_the_flag_wins_then_the_environment_then_kv_yaml_then_sqlite(tmp_path: Path) -> None:
    path = _project(tmp_path, "redis://yaml:6379/0")
    env = {"WORKERHOST_STORAGE": "redis://env:6379/0"}
    assert load_config(path, environ=env, overrides={"storage": "redis://flag:6379/0"}).storage == "redis://flag:6379/0"
    assert load_config(path, environ=env).storage == "redis://env:6379/0"
    assert load_config(path, environ={}).storage == "redis://yaml:6379/0"
    plain = _project(tmp_path / "plain")
    assert load_config(plain, environ={}).storage == sqlite_location(tmp_path / "plain" / ".workerhost")


def test_a_redis_store_leaves_persist_to_alone_and_keeps_its_password_out_of_repr(tmp_path: Path) -> None:
    config = load_config(_project(tmp_path), environ={"WORKERHOST_STORAGE": "redis://:hunter2@h:6379/0"})
    assert config.storage == "redis://:hunter2@h:6379/0"
    assert config.persist_to == tmp_path / ".workerhost"
    assert "hunter2" not in repr(config)


def test_a_sqlite_storage_is_the_persist_directory(tmp_path: Path) -> None:
    # kv.yaml's directory is relative to kv.yaml; a flag's to the working directory.
    config = load_config(_project(tmp_path, "data/kv-store"), environ={})
    directory = tmp_path / "data/kv-store"
    assert (config.persist_to, config.storage) == (directory, sqlite_location(directory))
    config = load_config(_project(tmp_path), environ={}, overrides={"storage": f"sqlite://{tmp_path}/x?max_pages=9"})
    assert (config.persist_to, config.storage) == (tmp_path / "x", sqlite_location(tmp_path / "x", max_pages=9))
    config = load_config(_project(tmp_path), environ={"WORKERHOST_READ_CACHE": "0"}, overrides={"storage": "/abs/y"})
    assert config.storage == sqlite_location("/abs/y", read_cache=False)


def test_persist_to_and_a_sqlite_storage_elsewhere_is_an_error(tmp_path: Path) -> None:
    path = _project(tmp_path, "/elsewhere", extra="persist_to: data\n")
    assert _error(path, environ={}) == (
        f"kv.yaml:1: storage keeps KV data in /elsewhere, but persist_to is {tmp_path / 'data'}; give one of them"
    )
    same = _project(tmp_path / "same", str(tmp_path / "same" / "data"), extra="persist_to: data\n")
    assert load_config(same, environ={}).persist_to == tmp_path / "same" / "data"


def test_sqlite_only_settings_with_redis_are_errors(tmp_path: Path) -> None:
    path = _project(tmp_path, REDIS)
    assert _error(path, environ={}, overrides={"max_db_pages": "50"}) == (
        "--max-db-pages (WORKERHOST_MAX_DB_PAGES) caps SQLite files, but the KV storage is "
        "redis://127.0.0.1:6390/1?prefix=team (kv.yaml:1: storage); drop one of them"
    )
    assert _error(path, environ={"WORKERHOST_READ_CACHE": "off"}) == (
        "WORKERHOST_READ_CACHE sets the SQLite engine's read cache, but the KV storage is "
        "redis://127.0.0.1:6390/1?prefix=team (kv.yaml:1: storage); unset it"
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"overrides": {"storage": "redis://h/0?pool=3"}}, "--storage: 'redis://h/0?pool=3': unknown option 'pool'"),
        ({"environ": {"WORKERHOST_STORAGE": "mongodb://h"}}, "WORKERHOST_STORAGE: unknown storage scheme 'mongodb'"),
        ({"environ": {"WORKERHOST_STORAGE": ""}}, "WORKERHOST_STORAGE is empty; expected a directory, or a URL"),
        ({"environ": {"WORKERHOST_STORAGE": "redis://:pw@h/x"}}, "WORKERHOST_STORAGE: 'redis://:***@h/x': the data"),
    ],
)
def test_a_bad_location_names_who_gave_it(tmp_path: Path, given: dict[str, dict[str, str]], message: str) -> None:
    assert _error(_project(tmp_path), **{"environ": {}, **given}).startswith(message)


def test_a_bad_location_in_kv_yaml_names_its_line(tmp_path: Path) -> None:
    path = _project(tmp_path, "redis://h/0?prefix={x}")
    assert _error(path, environ={}).startswith("kv.yaml:1: storage: 'redis://h/0?prefix={x}': prefix must be")
    write_files(tmp_path, {"kv.yaml": "storage: 6379\n"})
    assert _error(tmp_path / "kv.yaml", environ={}) == (
        "kv.yaml:1: storage must be a storage location: a directory, or a URL such as redis://host:6379/0 "
        "(quote it in YAML), got 6379"
    )


@pytest.mark.parametrize(("value", "required"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_require_durable_is_a_switch(tmp_path: Path, value: str, required: bool) -> None:
    config = load_config(_project(tmp_path), environ={"WORKERHOST_REQUIRE_DURABLE": value})
    assert config.require_durable is required
    assert load_config(_project(tmp_path), environ={}, overrides={"require_durable": True}).require_durable
    assert "WORKERHOST_REQUIRE_DURABLE must be true or false" in _error(
        _project(tmp_path), environ={"WORKERHOST_REQUIRE_DURABLE": "maybe"}
    )
