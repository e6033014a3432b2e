from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from runtime.cli.kv.bulk import BATCH

from .conftest import Run, write_json


def test_put_writes_every_pair_with_base64_metadata_and_expirations(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    expiration = int(time.time()) + 600
    pairs = [
        {"key": "plain", "value": "text"},
        {"key": "image", "value": base64.b64encode(png).decode(), "base64": True, "metadata": {"type": "png"}},
        {"key": "later", "value": "x", "expiration": expiration},
        {"key": "soon", "value": "y", "expiration_ttl": 3600, "expiration": 1},  # the TTL wins, as in Cloudflare
    ]
    done = kv("bulk", "put", write_json(tmp_path / "pairs.json", pairs), "--namespace-id", namespace_id)
    assert (done.status, done.out, done.err) == (0, b"", 'wrote 4 pairs to namespace "data"\n')
    args = ("--namespace-id", namespace_id)
    assert kv("key", "get", "image", *args).out == png
    listed = {key["name"]: key for key in kv("key", "list", *args).json()}
    assert listed["image"]["metadata"] == {"type": "png"}
    assert listed["later"]["expiration"] == expiration
    assert listed["soon"]["expiration"] >= int(time.time()) + 3500


def test_put_of_more_than_one_batch_writes_them_all(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    pairs = [{"key": f"k{index:06d}", "value": str(index)} for index in range(BATCH + 1)]
    assert kv("bulk", "put", write_json(tmp_path / "p.json", pairs), "--namespace-id", namespace_id).status == 0
    assert len(kv("key", "list", "--namespace-id", namespace_id).json()) == BATCH + 1


BAD_ITEMS: list[Any] = [
    ([{"key": "a", "value": "1"}, {"key": "b"}], 'item 1: "value" must be a string'),
    ([{"key": "a", "value": "1"}, "b"], 'item 1: each item must be an object with "key" and "value"'),
    ([{"key": 5, "value": "1"}], 'item 0: "key" must be a string'),
    ([{"key": "a", "value": "%%%", "base64": True}], 'item 0: "value" is not valid base64 (and "base64" is true)'),
    ([{"key": "a", "value": "1", "base64": "yes"}], 'item 0: "base64" must be a boolean'),
    ([{"key": "a", "value": "1", "expiration_ttl": "60"}], 'item 0: "expiration_ttl" must be a number'),
    (
        [{"key": "a", "value": "1", "expiration_ttl": 2**31}],
        'item 0: "expiration_ttl": Value out of range. Must be between -2147483648 and 2147483647 (inclusive).',
    ),
    (
        [{"key": "ok", "value": "1"}, {"key": "a", "value": "1", "expiration_ttl": 10}],
        "item 1: KV PUT failed: 400 Invalid expiration_ttl of 10. Expiration TTL must be at least 60.",
    ),
    (
        [{"key": "ok", "value": "1"}, {"key": "k" * 513, "value": "1"}],
        "item 1: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
    ),
    (
        [{"key": "a", "value": "1", "metadata": {"m": "x" * 1020}}],
        "item 0: KV PUT failed: 413 Metadata length of 1028 exceeds limit of 1024.",
    ),
    ({"key": "a", "value": "1"}, 'expected a JSON array of {"key", "value"} objects, got an object'),
]


@pytest.mark.parametrize(("content", "problem"), BAD_ITEMS)
def test_a_bad_put_file_names_the_item_and_writes_nothing(
    kv: Run, namespace_id: str, tmp_path: Path, content: Any, problem: str
) -> None:
    path = write_json(tmp_path / "pairs.json", content)
    refused = kv("bulk", "put", path, "--namespace-id", namespace_id)
    assert (refused.status, refused.out, refused.err) == (1, b"", f"workerhost: error: {path}: {problem}\n")
    assert kv("key", "list", "--namespace-id", namespace_id).json() == []


def test_a_file_that_is_not_json_is_one_line(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('[{"key": "a",', encoding="utf-8")
    refused = kv("bulk", "put", str(tmp_path / "broken.json"), "--namespace-id", namespace_id)
    assert refused.err.startswith(f"workerhost: error: {tmp_path / 'broken.json'}: not valid JSON: ")
    assert refused.err.count("\n") == 1


def test_delete_takes_names_or_name_objects(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    pairs = [{"key": key, "value": "v"} for key in ("a", "b", "c", "d")]
    kv("bulk", "put", write_json(tmp_path / "p.json", pairs), "--namespace-id", namespace_id)
    names = write_json(tmp_path / "names.json", ["a", {"name": "b"}, "never-there"])
    done = kv("bulk", "delete", names, "--namespace-id", namespace_id)
    assert (done.status, done.err) == (0, 'deleted 3 keys from namespace "data"\n')
    assert [key["name"] for key in kv("key", "list", "--namespace-id", namespace_id).json()] == ["c", "d"]


def test_a_bad_delete_file_deletes_nothing(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    kv("bulk", "put", write_json(tmp_path / "p.json", [{"key": "a", "value": "v"}]), "--namespace-id", namespace_id)
    for content, problem in [
        (["a", 3], 'item 1: each item must be a key name (a string, or an object with a "name" string)'),
        (["a", ""], "item 1: KV DELETE failed: 400 Key names must not be empty"),
    ]:
        path = write_json(tmp_path / "names.json", content)
        refused = kv("bulk", "delete", path, "--namespace-id", namespace_id)
        assert refused.err == f"workerhost: error: {path}: {problem}\n"
    assert len(kv("key", "list", "--namespace-id", namespace_id).json()) == 1


@pytest.fixture
def stocked(kv: Run, namespace_id: str, tmp_path: Path) -> tuple[str, int]:
    expiration = int(time.time()) + 600
    pairs = [
        {"key": "a", "value": "1", "metadata": {"m": 1}, "expiration": expiration},
        {"key": "b", "value": "two"},
        {"key": "bin", "value": base64.b64encode(b"\xff\x00").decode(), "base64": True},
    ]
    kv("bulk", "put", write_json(tmp_path / "p.json", pairs), "--namespace-id", namespace_id)
    return namespace_id, expiration


def test_get_prints_a_json_object_of_values_with_null_for_missing_keys(
    kv: Run, stocked: tuple[str, int], tmp_path: Path
) -> None:
    names = write_json(tmp_path / "names.json", ["b", {"name": "a"}, "missing", "b"])
    got = kv("bulk", "get", names, "--namespace-id", stocked[0])
    assert got.status == 0
    assert got.json() == {"b": "two", "a": "1", "missing": None}
    assert got.text.splitlines()[1] == '  "b": "two",'


def test_get_with_metadata_gives_value_metadata_and_expiration(
    kv: Run, stocked: tuple[str, int], tmp_path: Path
) -> None:
    names = write_json(tmp_path / "names.json", ["a", "b", "missing"])
    got = kv("bulk", "get", names, "--metadata", "--namespace-id", stocked[0]).json()
    assert got == {
        "a": {"value": "1", "metadata": {"m": 1}, "expiration": stocked[1]},
        "b": {"value": "two", "metadata": None},
        "missing": None,
    }


def test_get_refuses_binary_values_unless_base64_is_asked_for(
    kv: Run, stocked: tuple[str, int], tmp_path: Path
) -> None:
    names = write_json(tmp_path / "names.json", ["b", "bin"])
    refused = kv("bulk", "get", names, "--namespace-id", stocked[0])
    assert (refused.status, refused.out) == (1, b"")
    assert refused.err == (
        'workerhost: error: the value of "bin" is binary (not UTF-8 text); '
        "pass --base64 to print values base64-encoded\n"
    )
    got = kv("bulk", "get", names, "--base64", "--namespace-id", stocked[0]).json()
    assert got == {"b": base64.b64encode(b"two").decode(), "bin": base64.b64encode(b"\xff\x00").decode()}


def test_get_checks_every_key_first(kv: Run, stocked: tuple[str, int], tmp_path: Path) -> None:
    path = write_json(tmp_path / "names.json", ["a", "x" * 513])
    refused = kv("bulk", "get", path, "--namespace-id", stocked[0])
    assert refused.err == (
        f"workerhost: error: {path}: item 1: KV GET_BULK failed: 414 UTF-8 encoded length of 513 exceeds key "
        "length limit of 512.\n"
    )
