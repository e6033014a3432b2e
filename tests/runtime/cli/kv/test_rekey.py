"""``workerhost kv rekey``: encrypt a plain store, move it to a new key, decrypt it; refusals change nothing."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bindings.storage.encryption import EncryptionKey, new_key_text
from tests.redis_fixtures import where_data_is
from tests.support import ROOT

from .conftest import Run, write_json


def _key_file(project: Path, name: str) -> tuple[Path, EncryptionKey]:
    path = project / name
    path.write_text(new_key_text())
    return path, EncryptionKey.from_file(path)


@pytest.fixture
def filled(kv: Run, project: Path) -> str:
    """A plain store with two namespaces, one holding a few keys with metadata and expirations."""
    namespace_id = kv("namespace", "create", "data").json()["id"]
    kv("namespace", "create", "empty")
    pairs = [{"key": f"k{i}", "value": f"value {i}", "metadata": {"i": i}, "expiration_ttl": 3600} for i in range(5)]
    assert kv("bulk", "put", write_json(project / "pairs.json", pairs), "--namespace-id", namespace_id).status == 0
    return str(namespace_id)


def _values(kv: Run, namespace_id: str, *flags: str) -> list[object]:
    listed = kv("key", "list", "--namespace-id", namespace_id, *flags)
    assert listed.status == 0, listed.err
    names = [k["name"] for k in listed.json()]
    return [(name, kv("key", "get", name, "--namespace-id", namespace_id, *flags).text) for name in names]


def test_a_plain_store_is_encrypted_moved_to_a_new_key_and_decrypted(
    kv: Run, project: Path, filled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = where_data_is(project / ".workerhost")
    plain = _values(kv, filled)
    first, first_key = _key_file(project, "first.key")
    done = kv("rekey", "--kv-key-file", str(first))
    assert (done.status, done.out) == (0, b"")
    assert done.err == f"encrypted 5 keys with key {first_key.id} in 2 namespaces of {where}\n"
    assert _values(kv, filled, "--kv-key-file", str(first)) == plain
    assert kv("key", "list", "--namespace-id", filled).status == 1  # no key: refused
    again = kv("rekey", "--kv-key-file", str(first))
    assert again.err == f"nothing to do: the KV store at {where} is already encrypted with key {first_key.id}\n"

    second, second_key = _key_file(project, "second.key")
    done = kv("rekey", "--kv-key-file", str(second), "--old-key-file", str(first))
    assert done.err == f"re-encrypted 5 keys with key {second_key.id} in 2 namespaces of {where}\n"
    assert _values(kv, filled, "--kv-key-file", str(second)) == plain
    assert kv("key", "list", "--namespace-id", filled, "--kv-key-file", str(first)).status == 1

    monkeypatch.setenv("OLD_KV_KEY", second.read_text())
    done = kv("rekey", "--decrypt", "--old-key-env", "OLD_KV_KEY")
    assert done.err == f"decrypted 5 keys in 2 namespaces of {where}\n"
    assert _values(kv, filled) == plain
    exported = kv("export", "data")
    metadata = [json.loads(line).get("metadata") for line in exported.out.splitlines()[1:-1]]
    assert metadata == [{"i": i} for i in range(5)]


def test_refusals_say_why_and_change_nothing(kv: Run, project: Path, filled: str) -> None:
    plain = _values(kv, filled)
    refused = kv("rekey")
    assert refused.status == 1 and "no new key is configured" in refused.err and "pass --decrypt" in refused.err
    key, _ = _key_file(project, "kv.key")
    refused = kv("rekey", "--kv-key-file", str(key), "--decrypt")
    assert refused.status == 1
    assert "--decrypt stores the KV data unencrypted, but a new key is configured" in refused.err
    refused = kv("rekey", "--kv-key-file", str(key), "--old-key-file", str(key))
    assert refused.status == 1 and "is not encrypted, but an old key was given" in refused.err
    assert _values(kv, filled) == plain
    assert kv("rekey", "--kv-key-file", str(key)).status == 0
    other, _ = _key_file(project, "other.key")
    refused = kv("rekey", "--kv-key-file", str(other), "--old-key-file", str(other))
    assert refused.status == 1 and "but the old key given is key" in refused.err
    assert _values(kv, filled, "--kv-key-file", str(key)) == plain


def test_rekey_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_")}
    environ |= {"PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}
    command = [sys.executable, "-m", "runtime", "kv"]
    created = subprocess.run([*command, "namespace", "create", "data"], cwd=tmp_path, env=environ, capture_output=True)
    namespace_id = json.loads(created.stdout)["id"]
    write_json(tmp_path / "pairs.json", [{"key": f"k{i:05d}", "value": "v"} for i in range(3000)])
    subprocess.run([*command, "bulk", "put", "pairs.json", "--namespace-id", namespace_id], cwd=tmp_path, env=environ)
    key, _ = _key_file(tmp_path, "kv.key")
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*command, "rekey", "--kv-key-file", str(key)], cwd=tmp_path, env=environ, stderr=terminal
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
        assert process.wait(timeout=60) == 0
    finally:
        os.close(controller)
    text = drawn.decode("utf-8", "replace")
    assert "\x1b[" in text and "━" in text and 'namespace "data" (1 of 1)' in text
    assert "encrypted 3000 keys with key" in text
