from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bindings.limits import MAX_VALUE_BYTES

from .conftest import Run, write_json


def test_put_then_get_gives_back_the_raw_bytes(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    blob = bytes(range(256)) * 4 + b"\xff\xfe\x00"
    (tmp_path / "blob.bin").write_bytes(blob)
    assert kv("key", "put", "blob", "--path", "blob.bin", "--namespace-id", namespace_id).status == 0
    got = kv("key", "get", "blob", "--namespace-id", namespace_id)
    assert (got.status, got.out, got.err) == (0, blob, "")


def test_a_value_from_the_command_line_is_stored_as_typed(kv: Run, namespace_id: str) -> None:
    kv("key", "put", "greeting", "héllo wörld", "--namespace-id", namespace_id)
    assert kv("key", "get", "greeting", "--namespace-id", namespace_id).out == "héllo wörld".encode()
    # Bytes the locale cannot decode reach argv as surrogate escapes; they are stored unchanged.
    kv("key", "put", "raw", os.fsdecode(b"\xff\x00ok"), "--namespace-id", namespace_id)
    assert kv("key", "get", "raw", "--namespace-id", namespace_id).out == b"\xff\x00ok"


def test_a_value_can_come_from_stdin(kv: Run, namespace_id: str) -> None:
    kv("key", "put", "piped", "--path", "-", "--namespace-id", namespace_id, stdin=b"from a pipe\n")
    assert kv("key", "get", "piped", "--namespace-id", namespace_id).out == b"from a pipe\n"


def test_metadata_and_expiration_show_in_the_listing(kv: Run, namespace_id: str) -> None:
    expiration = int(time.time()) + 3600
    args = ("--namespace-id", namespace_id)
    kv("key", "put", "a", "1", "--metadata", '{"owner": "ada", "tags": [1, 2]}', "--expiration", str(expiration), *args)
    before = int(time.time())
    kv("key", "put", "b", "2", "--ttl", "120", *args)
    after = int(time.time())
    kv("key", "put", "c", "3", *args)
    a, b, c = kv("key", "list", *args).json()
    assert a == {"name": "a", "expiration": expiration, "metadata": {"owner": "ada", "tags": [1, 2]}}
    assert b["name"] == "b" and before + 120 <= b["expiration"] <= after + 120 and "metadata" not in b
    assert c == {"name": "c"}
    assert kv("key", "get", "a", "--metadata", *args).json() == {"owner": "ada", "tags": [1, 2]}
    assert kv("key", "get", "c", "--metadata", *args).out == b"null\n"


def test_list_pages_through_every_key_with_prefix_and_limit(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    pairs = [{"key": f"{group}:{index:05d}", "value": "v"} for group in ("a", "b") for index in range(1500)]
    kv("bulk", "put", write_json(tmp_path / "pairs.json", pairs), "--namespace-id", namespace_id)
    args = ("--namespace-id", namespace_id)
    assert [key["name"] for key in kv("key", "list", *args).json()] == [pair["key"] for pair in pairs]
    assert len(kv("key", "list", "--prefix", "b:", *args).json()) == 1500
    limited = kv("key", "list", "--prefix", "a:", "--limit", "1001", *args).json()
    assert [key["name"] for key in limited] == [f"a:{index:05d}" for index in range(1001)]
    assert kv("key", "list", "--prefix", "zzz", *args).out == b"[]\n"


def test_get_of_a_missing_key_prints_nothing_and_exits_1(kv: Run, namespace_id: str) -> None:
    missing = kv("key", "get", "nope", "--namespace-id", namespace_id)
    assert (missing.status, missing.out) == (1, b"")
    assert missing.err == 'workerhost: error: key "nope" not found in namespace "data"\n'


def test_delete_removes_a_key_and_a_missing_key_is_fine(kv: Run, namespace_id: str) -> None:
    kv("key", "put", "k", "v", "--namespace-id", namespace_id)
    assert kv("key", "delete", "k", "--namespace-id", namespace_id).status == 0
    assert kv("key", "delete", "k", "--namespace-id", namespace_id).status == 0
    assert kv("key", "list", "--namespace-id", namespace_id).json() == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("x" * 513, "v"), "KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."),
        (("", "v"), "KV PUT failed: 400 Key names must not be empty"),
        ((".", "v"), 'KV PUT failed: 400 Illegal key name ".". Please use a different name.'),
        (
            ("k", "v", "--ttl", "30"),
            "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
        ),
        (
            ("k", "v", "--ttl", "soon"),
            "KV PUT failed: 400 Invalid expiration_ttl of soon. Please specify integer greater than 0.",
        ),
        (
            ("k", "v", "--expiration", "1000"),
            "KV PUT failed: 400 Invalid expiration of 1000. Please specify integer greater than the current number "
            "of seconds since the UNIX epoch.",
        ),
        (("k", "v", "--metadata", "{nope"), "KV PUT failed: 400 metadata must be valid json"),
        (
            ("k", "v", "--metadata", json.dumps({"m": "x" * 1020})),
            "KV PUT failed: 413 Metadata length of 1029 exceeds limit of 1024.",
        ),
        (("k",), "give the value as an argument or with --path FILE (- for stdin), not both or neither"),
    ],
)
def test_a_refused_put_says_why_in_cloudflares_words_and_writes_nothing(
    kv: Run, namespace_id: str, extra: tuple[str, ...], message: str
) -> None:
    refused = kv("key", "put", *extra, "--namespace-id", namespace_id)
    assert (refused.status, refused.out, refused.err) == (1, b"", f"workerhost: error: {message}\n")
    assert kv("key", "list", "--namespace-id", namespace_id).json() == []


def test_an_oversized_value_is_refused_with_its_length(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * (MAX_VALUE_BYTES + 1))
    refused = kv("key", "put", "big", "--path", "big", "--namespace-id", namespace_id)
    assert refused.err == "workerhost: error: KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("get", "x" * 600), "KV GET failed: 414 UTF-8 encoded length of 600 exceeds key length limit of 512."),
        (("delete", ".."), 'KV DELETE failed: 400 Illegal key name "..". Please use a different name.'),
        (
            ("list", "--prefix", "p" * 513),
            "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.",
        ),
    ],
)
def test_reads_and_deletes_check_keys_as_the_service_does(
    kv: Run, namespace_id: str, argv: tuple[str, ...], message: str
) -> None:
    refused = kv("key", *argv, "--namespace-id", namespace_id)
    assert (refused.status, refused.out, refused.err) == (1, b"", f"workerhost: error: {message}\n")


def test_a_missing_file_is_one_line(kv: Run, namespace_id: str) -> None:
    refused = kv("key", "put", "k", "--path", "absent.bin", "--namespace-id", namespace_id)
    assert refused.err == "workerhost: error: absent.bin: cannot be read: No such file or directory\n"


def test_a_key_needs_a_binding_or_a_namespace_id_but_not_both(kv: Run) -> None:
    neither = kv("key", "get", "k")
    assert neither.status == 2 and "one of the arguments --binding --namespace-id is required" in neither.err
    both = kv("key", "get", "k", "--binding", "B", "--namespace-id", "x")
    assert both.status == 2 and "not allowed with argument" in both.err


def test_ctrl_c_is_exit_status_130_not_success(kv: Run, namespace_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("runtime.cli.kv.keys.put", interrupted)
    stopped = kv("key", "put", "k", "v", "--namespace-id", namespace_id)
    assert (stopped.status, stopped.err) == (130, "workerhost: interrupted\n")
