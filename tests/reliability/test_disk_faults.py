"""A full disk: the write that does not fit fails with a clear error, everything stored before it stays
intact, reads go on, and writes succeed again once there is room.

Three ways to fill it:

- a page cap on the store set while it runs (``SqliteStore.set_max_pages``), in-process: always runs;
- ``workerhost dev --max-db-pages`` (``WORKERHOST_MAX_DB_PAGES``) in a subprocess: always runs;
- a real file system that is full (a 3 MiB tmpfs): runs where mounting one is allowed (root on Linux).

With a cap, deleting keys makes room (SQLite reuses the freed pages). On a full file system it does not:
in WAL mode even a delete appends to the log first, so room comes back only when something else on the
disk is removed; the tmpfs test checks exactly that.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bindings import SqliteStore
from runtime import create_app, load_config
from runtime.config import DEFAULT_ACCOUNT_ID
from tests.support import DevServer, app_client, write_files

from .support import NAMESPACES, PROBE_PROJECT, assert_sound, snapshot

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]  # page caps and a full disk are SQLite's

FULL = "the store is full; the write was not applied (database or disk is full)"
VALUE = b"v" * 100_000


def rest_values(namespace_id: str, key: str) -> str:
    return f"{NAMESPACES}/{namespace_id}/values/{key}"


def assert_refused_as_full(handler: httpx.Response, rest: httpx.Response) -> None:
    """A handler's put raised StorageFullError (a 500 naming it); the REST API answered 507."""
    assert handler.status_code == 500
    assert f"bindings.errors.StorageFullError: {FULL}" in handler.text
    assert rest.status_code == 507
    assert rest.json() == {
        "success": False,
        "errors": [{"code": 10002, "message": FULL}],
        "messages": [],
        "result": None,
    }


async def test_a_capped_store_refuses_what_does_not_fit_serves_reads_and_takes_writes_once_lifted(
    tmp_path: Path,
) -> None:
    project = write_files(tmp_path / "project", PROBE_PROJECT)
    store = SqliteStore(tmp_path / "data")
    app = create_app(load_config(project / "kv.yaml", environ={}), store=store)
    try:
        async with app_client(app) as client:
            ns = (await client.get("/__workerhost/status")).json()["workers"][0]["bindings"][0]["namespace_id"]
            assert (await client.post("/probe/put", params={"key": "before"}, content=b"kept")).status_code == 200
            assert (await client.put(rest_values(ns, "rest-before"), content=VALUE)).status_code == 200
            before = snapshot(tmp_path / "data")
            await store.set_max_pages(1)  # no file may grow any more

            handler = await client.post("/probe/put", params={"key": "big"}, content=VALUE)
            rest = await client.put(rest_values(ns, "big"), content=VALUE)
            assert_refused_as_full(handler, rest)
            bulk = await client.put(
                f"{NAMESPACES}/{ns}/bulk", json=[{"key": f"b{n}", "value": "x" * 50_000} for n in range(4)]
            )
            assert bulk.status_code == 507
            assert snapshot(tmp_path / "data") == before  # nothing half-written
            assert (await client.get("/probe/get", params={"key": "before"})).text == "kept"
            assert (await client.get(rest_values(ns, "rest-before"))).content == VALUE
            assert len((await client.get(f"{NAMESPACES}/{ns}/keys")).json()["result"]) == 2

            await store.set_max_pages(None)  # space returns
            assert (await client.post("/probe/put", params={"key": "big"}, content=VALUE)).status_code == 200
            assert (await client.put(f"{NAMESPACES}/{ns}/bulk", json=[{"key": "b", "value": "x"}])).status_code == 200
            assert (await client.get("/probe/get", params={"key": "big"})).content == VALUE
    finally:
        await store.close()
    assert_sound(tmp_path / "data")


def test_a_host_started_with_a_page_cap_fills_up_and_deleting_makes_room(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROBE_PROJECT)
    server = DevServer(project / "kv.yaml", tmp_path / "data", args=("--no-reload", "--max-db-pages", "60")).start()
    try:
        ns = server.status()["workers"][0]["bindings"][0]["namespace_id"]
        stored = fill(server.client, ns)
        handler = server.client.post("/probe/put", params={"key": "one-more"}, content=VALUE)
        rest = server.client.put(rest_values(ns, "one-more"), content=VALUE)
        assert_refused_as_full(handler, rest)
        assert [server.client.get(rest_values(ns, key)).content for key in stored] == [VALUE] * len(stored)
        assert server.client.delete(rest_values(ns, stored[0])).status_code == 200  # freed pages are reused
        assert server.client.post("/probe/put", params={"key": "one-more"}, content=VALUE).status_code == 200
        assert server.process is not None and server.process.poll() is None
    finally:
        assert server.stop() == 0
    errors = {re.sub(r"/k\d+ ", "/k<n> ", line) for line in server.stderr().splitlines() if line.startswith("[error]")}
    assert errors <= {  # each refused write is logged, and nothing else went wrong
        "[error] probe: POST /probe/put raised StorageFullError",
        f"[error] PUT /accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{ns}/values/k<n> failed",
        f"[error] PUT /accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{ns}/values/one-more failed",
    }
    assert_sound(tmp_path / "data")


def fill(client: httpx.Client, ns: str) -> list[str]:
    """PUT 100 KB values until one is refused; returns the keys stored (at least one)."""
    stored = []
    for n in range(1000):
        response = client.put(rest_values(ns, f"k{n}"), content=VALUE)
        if response.status_code != 200:
            assert response.status_code == 507, response.text
            assert stored, "not even one value fitted"
            return stored
        stored.append(f"k{n}")
    raise AssertionError("the store never filled up")


# --- a real full file system ----------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where``; skips the test where mounting is not allowed."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux")
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False, capture_output=True)


def test_a_full_file_system_refuses_writes_keeps_data_and_recovers_when_space_returns(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROBE_PROJECT)
    with small_tmpfs(tmp_path / "disk", "3m") as disk:
        (disk / "ballast").write_bytes(os.urandom(1_500_000))  # another file taking half the disk
        # The store is the whole disk; the server's logs go beside it, not on it.
        server = DevServer(project / "kv.yaml", disk, args=("--no-reload",)).start()
        try:
            ns = server.status()["workers"][0]["bindings"][0]["namespace_id"]
            stored = fill(server.client, ns)
            handler = server.client.post("/probe/put", params={"key": "one-more"}, content=VALUE)
            rest = server.client.put(rest_values(ns, "one-more"), content=VALUE)
            assert_refused_as_full(handler, rest)
            assert server.client.delete(rest_values(ns, stored[0])).status_code == 507  # even a delete needs room
            assert [server.client.get(rest_values(ns, key)).content for key in stored] == [VALUE] * len(stored)
            keys = server.client.get(f"{NAMESPACES}/{ns}/keys").json()["result"]
            assert sorted(key["name"] for key in keys) == sorted(stored)

            (disk / "ballast").unlink()  # space returns
            assert server.client.put(rest_values(ns, "one-more"), content=VALUE).status_code == 200
            assert server.client.post("/probe/put", params={"key": "two-more"}, content=VALUE).status_code == 200
            assert server.client.delete(rest_values(ns, stored[0])).status_code == 200
        finally:
            assert server.stop() == 0
        # Check a copy: the checkpoint at shutdown may have filled this small disk again (the log is then
        # kept, and safe), and opening a WAL database needs room for its index file.
        copy = tmp_path / "copy"
        shutil.copytree(disk, copy, ignore=shutil.ignore_patterns("*-shm"))
    assert_sound(copy)
    rows = snapshot(copy)[f"{ns}.sqlite3"]
    assert sorted(row[0].decode() for row in rows) == sorted([*stored[1:], "one-more", "two-more"])
