"""``workerhost kv`` on an encrypted store: the same commands and output, plain text out, sealed data in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bindings.storage.encryption import EncryptionKey, new_key_text

from .conftest import Run

pytestmark = pytest.mark.sqlite_only  # reads the SQLite files themselves

SECRET = "PLAINTEXT-VALUE-from-the-cli"
META = '{"note": "PLAINTEXT-METADATA-from-the-cli"}'


def _stored(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in (directory / "kv").iterdir() if path.is_file())


@pytest.fixture
def key_file(project: Path) -> Path:
    (project / "kv.key").write_text(new_key_text() + "\n")
    return project / "kv.key"


def test_commands_read_and_write_plain_text_on_a_store_that_holds_it_sealed(
    kv: Run, project: Path, key_file: Path
) -> None:
    keyed = ("--kv-key-file", str(key_file))
    namespace_id = kv("namespace", "create", "data", *keyed).json()["id"]
    at = ("--namespace-id", namespace_id, *keyed)
    assert kv("key", "put", "greeting", SECRET, "--metadata", META, *at).status == 0
    assert kv("key", "get", "greeting", *at).out == SECRET.encode()
    assert kv("key", "get", "greeting", "--metadata", *at).json() == json.loads(META)
    assert kv("key", "list", *at).json() == [{"name": "greeting", "metadata": json.loads(META)}]
    stored = _stored(project / ".workerhost")
    assert b"greeting" in stored and SECRET.encode() not in stored and b"PLAINTEXT-METADATA" not in stored


def test_export_gives_plain_text_and_import_seals_it(
    kv: Run, project: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain store moved into an encrypted one, namespace by namespace: export, then import with a key.
    plain_id = kv("namespace", "create", "plain").json()["id"]
    kv("key", "put", "greeting", SECRET, "--metadata", META, "--namespace-id", plain_id)
    exported = kv("export", "plain")
    assert exported.status == 0 and SECRET.encode() in exported.out
    monkeypatch.setenv("WORKERHOST_KV_KEY_FILE", str(key_file))
    keyed = ("--persist-to", str(project / "sealed"))
    assert kv("import", "copy", "-", *keyed, stdin=exported.out).status == 0
    stored = _stored(project / "sealed")
    assert SECRET.encode() not in stored and b"PLAINTEXT-METADATA" not in stored
    again = kv("export", "copy", *keyed)
    lines = [json.loads(line) for line in again.out.splitlines()]
    assert lines[1] == {"key": "greeting", "value": SECRET, "metadata": json.loads(META)}


def test_a_missing_or_wrong_key_is_refused_with_how_to_fix_it(kv: Run, project: Path, key_file: Path) -> None:
    key = EncryptionKey.from_file(key_file)
    namespace_id = kv("namespace", "create", "data", "--kv-key-file", str(key_file)).json()["id"]
    kv("key", "put", "k", SECRET, "--namespace-id", namespace_id, "--kv-key-file", str(key_file))
    before = _stored(project / ".workerhost")
    where = project / ".workerhost"
    refused = kv("key", "put", "k", "overwritten", "--namespace-id", namespace_id)
    assert (refused.status, refused.out) == (1, b"")
    assert refused.err.startswith(
        f"workerhost: error: the KV store at {where} is encrypted (key id {key.id}), and no key was given; "
        "nothing was read or written; give its key with kv.yaml's encryption (key_env or key_file), --kv-key-file"
    )
    (project / "other.key").write_text(new_key_text())
    refused = kv("export", "data", "--kv-key-file", str(project / "other.key"))
    assert (refused.status, refused.out) == (1, b"")
    assert f"is encrypted with another key (id {key.id})" in refused.err
    assert kv("key", "get", "k", "--namespace-id", namespace_id, "--kv-key-file", str(key_file)).out == SECRET.encode()
    assert _stored(project / ".workerhost").count(b"overwritten") == before.count(b"overwritten") == 0


def test_a_key_file_that_is_not_a_key_is_refused_without_showing_it(kv: Run, project: Path) -> None:
    (project / "bad.key").write_text("not-a-key-at-all")
    refused = kv("namespace", "list", "--kv-key-file", str(project / "bad.key"))
    assert refused.status == 1 and "not-a-key-at-all" not in refused.err
    assert refused.err.startswith(f"workerhost: error: the encryption key file --kv-key-file {project / 'bad.key'} ")
