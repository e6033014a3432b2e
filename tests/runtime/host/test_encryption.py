"""Encryption at rest through a real ``workerhost dev``: handlers, the REST API and the status route see
plain values while the files hold sealed ones, and a host given the wrong key, no key, or a key for a
store of plain entries refuses to start and leaves the data as it was (README "Encryption at rest")."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bindings.storage.encryption import EncryptionKey, new_key_text
from tests.support import ROOT, DevServer, dev_server, write_files

pytestmark = pytest.mark.sqlite_only  # reads the SQLite files themselves

ACCOUNT = "0123456789abcdef0123456789abcdef"
NOTES_ID = "5a0c1f0e3b2d4c6a8e9f0a1b2c3d4e5f"
SECRET = "PLAINTEXT-VALUE-from-a-handler"
META_SECRET = "PLAINTEXT-METADATA-via-rest"


def _project(tmp_path: Path, encryption: str) -> Path:
    return write_files(
        tmp_path / "app",
        {
            "kv.yaml": f"""
                {encryption}
                kv_namespaces:
                  - title: notes
                    id: {NOTES_ID}
                workers:
                  - name: notes
                    script: worker.py
                    routes: ["/notes/*"]
                    kv_namespaces:
                      - {{binding: NOTES, namespace: notes}}
            """,
            "worker.py": """
                from runtime import Response

                async def fetch(request, env, ctx):
                    name = request.url.path.rsplit("/", 1)[-1]
                    if request.method == "PUT":
                        await env.NOTES.put(name, await request.body(), metadata={"by": "handler"})
                        return Response("stored", status=201)
                    found = await env.NOTES.get_with_metadata(name)
                    return Response.json({"value": found.value, "metadata": found.metadata})
            """,
        },
    ) / "kv.yaml"


def _rows(persist_to: Path) -> list[tuple[object, ...]]:
    """Every namespace file's rows and the catalog's settings, read with the sqlite3 module."""
    rows: list[tuple[object, ...]] = []
    kv = persist_to / "kv"
    for path in sorted(kv.glob("*.sqlite3")):
        connection = sqlite3.connect(path)
        try:
            table = "settings" if path.name == "catalog.sqlite3" else "entries"
            rows += [(path.name, *row) for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1")]
        finally:
            connection.close()
    return rows


def _start_fails(config: Path, persist_to: Path, env: dict[str, str]) -> str:
    server = DevServer(config, persist_to, env=env)
    completed = subprocess.run(server.command(), env=server.env, cwd=config.parent, capture_output=True, timeout=60)
    assert completed.returncode == 1, completed.stderr
    return completed.stderr.decode()


def test_a_keyed_host_serves_plain_values_and_stores_sealed_ones(tmp_path: Path) -> None:
    key_text = new_key_text()
    key = EncryptionKey.from_text(key_text, "x")
    config = _project(tmp_path, "encryption: {key_env: NOTES_KEY}")
    persist_to = tmp_path / "data"
    with dev_server(config, persist_to, env={"NOTES_KEY": key_text}) as server:
        assert server.client.put("/notes/first", content=SECRET).status_code == 201
        assert server.client.get("/notes/first").json() == {"value": SECRET, "metadata": {"by": "handler"}}
        values = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces/{NOTES_ID}/values"
        stored = server.client.put(
            f"{values}/second", files={"value": (None, "via REST"), "metadata": (None, f'{{"note": "{META_SECRET}"}}')}
        )
        assert stored.status_code == 200, stored.text
        assert server.client.get(f"{values}/second").content == b"via REST"
        keys = server.client.get(f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces/{NOTES_ID}/keys").json()
        assert keys["result"] == [
            {"name": "first", "metadata": {"by": "handler"}},
            {"name": "second", "metadata": {"note": META_SECRET}},
        ]
        assert server.status()["storage"]["encryption"] == {"cipher": "AES-256-GCM", "key_id": key.id}
        banner = server.stdout() + server.stderr()
        assert f"Encrypted  AES-256-GCM at rest, key {key.id} from NOTES_KEY" in banner
        assert key_text not in banner
    raw = repr(_rows(persist_to)).encode() + b"".join(p.read_bytes() for p in (persist_to / "kv").iterdir())
    assert b"first" in raw and b"second" in raw  # key names stay plain
    for secret in (SECRET, META_SECRET, "handler", "via REST"):
        assert secret.encode() not in raw


def test_a_host_with_the_wrong_key_or_none_refuses_to_start_and_changes_nothing(tmp_path: Path) -> None:
    key_text = new_key_text()
    key = EncryptionKey.from_text(key_text, "x")
    config = _project(tmp_path, "encryption: {key_env: NOTES_KEY}")
    persist_to = tmp_path / "data"
    with dev_server(config, persist_to, env={"NOTES_KEY": key_text}) as server:
        assert server.client.put("/notes/kept", content=SECRET).status_code == 201
    before = _rows(persist_to)
    wrong = EncryptionKey.from_text(other := new_key_text(), "x")
    refused = _start_fails(config, persist_to, {"NOTES_KEY": other})
    assert (
        f"workerhost: error: the KV store at {persist_to} is encrypted with another key (id {key.id}) than the one "
        f"from NOTES_KEY (id {wrong.id}); nothing was read or written; give the key it was encrypted with; "
        "`workerhost kv rekey` moves a store to a new key" in refused
    )
    assert other not in refused and key_text not in refused
    write_files(config.parent, {"kv.yaml": config.read_text().replace("encryption: {key_env: NOTES_KEY}", "")})
    refused = _start_fails(config, persist_to, {})
    assert (
        f"workerhost: error: the KV store at {persist_to} is encrypted (key id {key.id}), and no key was given; "
        "nothing was read or written; give its key with kv.yaml's encryption (key_env or key_file), "
        "--kv-key-file or WORKERHOST_KV_KEY_FILE" in refused
    )
    assert _rows(persist_to) == before
    # The right key, given another way, reads it all.
    (tmp_path / "notes.key").write_text(key_text)
    with dev_server(config, persist_to, args=("--kv-key-file", str(tmp_path / "notes.key"))) as server:
        assert server.client.get("/notes/kept").json() == {"value": SECRET, "metadata": {"by": "handler"}}


def test_a_key_for_a_store_of_plain_entries_is_refused_until_it_is_encrypted(tmp_path: Path) -> None:
    config = _project(tmp_path, "")
    persist_to = tmp_path / "data"
    with dev_server(config, persist_to) as server:
        assert server.client.put("/notes/plain", content=SECRET).status_code == 201
    before = _rows(persist_to)
    (tmp_path / "notes.key").write_text(new_key_text())
    refused = _start_fails(config, persist_to, {"WORKERHOST_KV_KEY_FILE": str(tmp_path / "notes.key")})
    assert (
        f"workerhost: error: the KV store at {persist_to} holds unencrypted entries, and an encryption key was given "
        f"(from WORKERHOST_KV_KEY_FILE ({tmp_path / 'notes.key'})); nothing was read or written; encrypt it first "
        "with `workerhost kv rekey`" in refused
    )
    assert _rows(persist_to) == before


PLUGIN_TESTS = """
import sqlite3


def test_a_users_tests_run_unchanged_on_an_encrypted_store(workerhost, workerhost_config):
    assert workerhost.client.put("/notes/x", content=b"PLAINTEXT-IN-A-TEST").status_code == 201
    assert workerhost.client.get("/notes/x").json() == {"value": "PLAINTEXT-IN-A-TEST", "metadata": {"by": "handler"}}
    assert workerhost.kv("NOTES").get("x") == "PLAINTEXT-IN-A-TEST"
    kv = workerhost_config.persist_to / "kv"
    assert b"PLAINTEXT-IN-A-TEST" not in b"".join(path.read_bytes() for path in kv.iterdir())
"""


def test_the_pytest_plugin_runs_a_users_tests_on_an_encrypted_store(tmp_path: Path) -> None:
    config = _project(tmp_path, "encryption: {key_env: NOTES_KEY}")
    (config.parent / "test_notes.py").write_text(PLUGIN_TESTS, encoding="utf-8")
    plugin = ("-p", "no:workerhost", "-p", "runtime.testing")  # as the repo loads it (pyproject's addopts)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin, "test_notes.py"]
    env = {"PYTHONPATH": str(ROOT), "NOTES_KEY": new_key_text(), "PATH": "/usr/bin:/bin"}
    completed = subprocess.run(command, cwd=config.parent, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "1 passed" in completed.stdout
