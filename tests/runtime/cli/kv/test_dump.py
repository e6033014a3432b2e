from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import Run, write_json

ONE_MIB = 1024 * 1024


def _entries(export: bytes) -> list[bytes]:
    lines = export.splitlines()
    return lines[1:-1]


@pytest.fixture
def source(kv: Run, tmp_path: Path) -> dict[str, Any]:
    """A namespace "source" holding every kind of entry, plus what was put in it."""
    kv("namespace", "create", "source")
    expiration = int(time.time()) + 3600
    big = os.urandom(ONE_MIB)
    specials = [
        {"key": "binary", "value": base64.b64encode(b"\x00\xff\xfe" * 100).decode(), "base64": True},
        {"key": "big", "value": base64.b64encode(big).decode(), "base64": True, "metadata": {"size": ONE_MIB}},
        {"key": "héllo/wörld ✓ 𝄞", "value": "ünïcödé ✓", "metadata": {"tags": ["ä", None, 1.5]}},
        {"key": "nul\x00inside", "value": "a\x00b"},
        {"key": "line\nbreak", "value": "x\r\ny", "expiration": expiration},
        {"key": "lone", "value": "v", "metadata": {"s": "\ud800"}},
        {"key": "empty", "value": ""},
        {"key": "meta-false", "value": "0", "metadata": False},
    ]
    many = [{"key": f"key:{index:05d}", "value": f"value {index}"} for index in range(5000)]
    path = write_json(tmp_path / "pairs.json", specials + many)
    assert kv("bulk", "put", path, "--binding" if False else "--namespace-id", _id(kv, "source")).status == 0
    return {"big": big, "expiration": expiration, "count": len(specials) + len(many)}


def _id(kv: Run, title: str) -> str:
    return next(ns["id"] for ns in kv("namespace", "list").json() if ns["title"] == title)


def test_an_export_imported_elsewhere_exports_the_same(kv: Run, source: dict[str, Any], tmp_path: Path) -> None:
    exported = kv("export", "source")
    assert exported.status == 0 and exported.err == f'exported {source["count"]} keys from namespace "source"\n'
    (tmp_path / "source.jsonl").write_bytes(exported.out)
    imported = kv("import", "copy", str(tmp_path / "source.jsonl"))
    assert imported.err == f'imported {source["count"]} keys into namespace "copy" (created it)\n'
    again = kv("export", "copy", "--output", str(tmp_path / "copy.jsonl"))
    assert again.out == b""
    assert _entries((tmp_path / "copy.jsonl").read_bytes()) == _entries(exported.out)
    copy = ("--namespace-id", _id(kv, "copy"))
    assert kv("key", "get", "big", *copy).out == source["big"]
    assert kv("key", "get", "binary", *copy).out == b"\x00\xff\xfe" * 100
    assert kv("key", "get", "nul\x00inside", *copy).out == b"a\x00b"
    listed = {key["name"]: key for key in kv("key", "list", *copy).json()}
    assert listed["line\nbreak"]["expiration"] == source["expiration"]
    assert listed["lone"]["metadata"] == {"s": "\ud800"}
    assert listed["meta-false"]["metadata"] is False and "metadata" not in listed["empty"]


def test_the_export_format_is_documented_json_lines(kv: Run, source: dict[str, Any]) -> None:
    lines = kv("export", "source").out.splitlines()
    header, first, last = json.loads(lines[0]), json.loads(lines[1]), json.loads(lines[-1])
    assert header["format"] == "workerhost-kv-export" and header["version"] == 1
    assert header["namespace"] == {"id": _id(kv, "source"), "title": "source"}
    assert first == {"key": "big", "value": first["value"], "base64": True, "metadata": {"size": ONE_MIB}}
    assert last == {"end": True, "count": source["count"]}
    assert json.loads(lines[-2]) == {"key": "nul\x00inside", "value": "a\x00b"}


def _export_file(path: Path, entries: list[dict[str, Any]], count: int | None = None) -> str:
    header = {"format": "workerhost-kv-export", "version": 1, "namespace": {"id": None, "title": "t"}}
    lines = [header, *entries, {"end": True, "count": len(entries) if count is None else count}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_import_keeps_expirations_exactly_and_skips_expired_keys(kv: Run, tmp_path: Path) -> None:
    now = int(time.time())
    entries = [
        {"key": "soon", "value": "1", "expiration": now + 5},  # a put would refuse this (under 60 s away)
        {"key": "gone", "value": "2", "expiration": now - 5},
        {"key": "kept", "value": "3"},
    ]
    done = kv("import", "target", _export_file(tmp_path / "e.jsonl", entries))
    assert done.err == 'imported 2 keys into namespace "target" (created it); skipped 1 that had already expired\n'
    listed = kv("key", "list", "--namespace-id", _id(kv, "target")).json()
    assert listed == [{"name": "kept"}, {"name": "soon", "expiration": now + 5}]


BAD_EXPORTS: list[Any] = [
    ([{"key": "a", "value": 1}], 'line 2: "value" must be a string'),
    (
        [{"key": "a", "value": "1", "ttl": 60}],
        'line 2: unknown field "ttl"; expected key, value, base64, expiration, metadata',
    ),
    ([{"key": "a", "value": "1", "expiration": "soon"}], 'line 2: "expiration" must be a number'),
    (
        [{"key": "a", "value": "1", "expiration": 1.5}],
        'line 2: "expiration" must be a whole number of seconds since the epoch',
    ),
    (
        [{"key": "ok", "value": "1"}, {"key": "k" * 513, "value": "1"}],
        "line 3: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
    ),
    (
        [{"key": "a", "value": "1", "metadata": "m" * 1030}],
        "line 2: KV PUT failed: 413 Metadata length of 1032 exceeds limit of 1024.",
    ),
]


@pytest.mark.parametrize(("entries", "problem"), BAD_EXPORTS)
def test_a_bad_line_is_reported_and_nothing_is_imported(
    kv: Run, tmp_path: Path, entries: list[Any], problem: str
) -> None:
    path = _export_file(tmp_path / "e.jsonl", entries)
    refused = kv("import", "target", path)
    assert (refused.status, refused.err) == (1, f"workerhost: error: {path}: {problem}\n")
    assert kv("namespace", "list").json() == []  # not even the namespace was created


def test_a_cut_short_or_damaged_export_is_refused(kv: Run, tmp_path: Path) -> None:
    path = _export_file(tmp_path / "e.jsonl", [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
    whole = Path(path).read_text()
    Path(path).write_text(whole.rsplit("\n", 2)[0] + "\n")  # the closing line is gone
    assert kv("import", "t", path).err == (
        f'workerhost: error: {path}: has no closing {{"end": true, "count": ...}} line: the export is incomplete\n'
    )
    damaged = _export_file(tmp_path / "d.jsonl", [{"key": "a", "value": "1"}], count=2)
    assert kv("import", "t", damaged).err == (
        f"workerhost: error: {damaged}: has 1 keys but its closing line says 2: it is damaged\n"
    )
    (tmp_path / "x.jsonl").write_text('{"key": "a", "value": "1"}\n')
    assert kv("import", "t", str(tmp_path / "x.jsonl")).err == (
        f"workerhost: error: {tmp_path / 'x.jsonl'}: not a workerhost export: line 1 should be a header with "
        '"format": "workerhost-kv-export"\n'
    )
    assert kv("namespace", "list").json() == []


def test_import_into_an_existing_namespace_overwrites_the_keys_it_holds(kv: Run, tmp_path: Path) -> None:
    kv("namespace", "create", "target")
    target = ("--namespace-id", _id(kv, "target"))
    kv("key", "put", "a", "old", *target)
    kv("key", "put", "z", "untouched", *target)
    kv("import", _id(kv, "target"), _export_file(tmp_path / "e.jsonl", [{"key": "a", "value": "new"}]))
    assert kv("key", "get", "a", *target).out == b"new"
    assert kv("key", "get", "z", *target).out == b"untouched"


def test_import_reads_stdin(kv: Run, tmp_path: Path) -> None:
    path = _export_file(tmp_path / "e.jsonl", [{"key": "a", "value": "1"}])
    assert kv("import", "piped", "-", stdin=Path(path).read_bytes()).status == 0
    assert kv("key", "get", "a", "--namespace-id", _id(kv, "piped")).out == b"1"


def test_export_of_an_unknown_namespace_is_one_line(kv: Run) -> None:
    refused = kv("export", "nope")
    assert refused.status == 1 and refused.out == b""
    assert refused.err.startswith('workerhost: error: no namespace has the title or id "nope"')


def test_import_into_an_unknown_id_does_not_create_it(kv: Run, tmp_path: Path) -> None:
    refused = kv("import", "0" * 32, _export_file(tmp_path / "e.jsonl", []))
    assert refused.err.startswith(f'workerhost: error: no namespace has the title or id "{"0" * 32}"')
    assert kv("namespace", "list").json() == []
