"""``workerhost kv`` on Redis: ``--storage`` or kv.yaml's ``storage:``, and export/import between engines."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.redis_support import RedisServer
from tests.support import free_port

from .conftest import Run
from .test_dump import _entries, _id, source

__all__ = ["source"]  # the fixture: a SQLite namespace "source" holding every kind of entry

pytestmark = pytest.mark.sqlite_only  # each test names both of its stores itself


def test_export_and_import_move_a_namespace_from_sqlite_to_redis_and_back(
    kv: Run, source: dict[str, Any], tmp_path: Path, redis_server: RedisServer
) -> None:
    redis = ("--storage", redis_server.location())
    exported = kv("export", "source", "--output", str(tmp_path / "from-sqlite.jsonl"))
    assert exported.status == 0, exported.err
    moved = kv("import", "moved", str(tmp_path / "from-sqlite.jsonl"), *redis)
    assert moved.err == f'imported {source["count"]} keys into namespace "moved" (created it)\n'
    assert kv("export", "moved", "--output", str(tmp_path / "from-redis.jsonl"), *redis).status == 0
    back = ("--storage", str(tmp_path / "other-sqlite"))
    assert kv("import", "back", str(tmp_path / "from-redis.jsonl"), *back).status == 0
    assert kv("export", "back", "--output", str(tmp_path / "round-trip.jsonl"), *back).status == 0
    original = _entries((tmp_path / "from-sqlite.jsonl").read_bytes())
    assert len(original) == source["count"]
    assert _entries((tmp_path / "from-redis.jsonl").read_bytes()) == original
    assert _entries((tmp_path / "round-trip.jsonl").read_bytes()) == original
    assert kv("key", "get", "big", "--namespace-id", _id_in(kv, "moved", redis), *redis).out == source["big"]
    assert [ns["title"] for ns in kv("namespace", "list", *redis).json()] == ["moved"]


def _id_in(kv: Run, title: str, store: tuple[str, ...]) -> str:
    return next(ns["id"] for ns in kv("namespace", "list", *store).json() if ns["title"] == title)


def test_kv_yaml_storage_sends_every_command_to_redis(kv: Run, project: Path, redis_server: RedisServer) -> None:
    (project / "kv.yaml").write_text(
        textwrap.dedent(f"""
            storage: {redis_server.location()}
            kv_namespaces:
              - title: shared
            workers:
              - name: app
                script: worker.py
                kv_namespaces: [{{binding: DATA, namespace: shared}}]
        """),
        encoding="utf-8",
    )
    (project / "worker.py").write_text("async def fetch(request, env, ctx): ...\n", encoding="utf-8")
    assert kv("key", "put", "greeting", "hello", "--binding", "DATA").status == 0
    assert kv("key", "get", "greeting", "--binding", "DATA").out == b"hello"
    assert not (project / ".workerhost").exists()  # nothing went to SQLite
    namespace_id = _id(kv, "shared")
    assert kv("key", "list", "--namespace-id", namespace_id).json() == [{"name": "greeting"}]


def test_an_unreachable_redis_is_one_line(kv: Run) -> None:
    port = free_port()  # nothing listens there
    refused = kv("namespace", "list", "--storage", f"redis://127.0.0.1:{port}/0")
    assert (refused.status, refused.out) == (1, b"")
    assert refused.err == f"workerhost: error: Redis at 127.0.0.1:{port} is unreachable: Connection refused\n"


def test_a_bad_storage_location_is_one_line(kv: Run) -> None:
    refused = kv("namespace", "list", "--storage", "redis://:secret@h/0?colour=blue")
    assert refused.status == 1 and "secret" not in refused.err
    assert refused.err.startswith("workerhost: error: --storage: 'redis://:***@h/0?colour=blue': unknown option")
