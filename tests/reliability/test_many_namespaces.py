"""A thousand namespaces (the account limit) work under a limit of 1,024 open descriptors, sweep included.

``workerhost dev`` runs with ``RLIMIT_NOFILE`` lowered to 1024 and the expiry sweep every half second
(``WORKERHOST_SWEEP_INTERVAL``). Over REST: create 1,000 namespaces, write and read a key in each. Rows that
expired long ago are planted in some files with plain ``sqlite3`` (no API accepts a past expiration): the
sweep must visit every namespace and delete them, while every request keeps succeeding and the host's
descriptors stay under the limit.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import httpx
import pytest

from bindings.catalog import MAX_NAMESPACES
from tests.support import DevServer, eventually, write_files

from .support import NAMESPACES

LIMIT = 1024


class LimitedServer(DevServer):
    """``workerhost dev`` with its descriptor limit lowered before it starts."""

    def command(self) -> list[str]:
        start = (
            "import resource, runpy, sys; "
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({LIMIT}, resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
            "sys.argv = ['workerhost'] + sys.argv[1:]; runpy.run_module('runtime', run_name='__main__')"
        )
        return [sys.executable, "-c", start, *super().command()[3:]]


def _descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _plant_expired(path: Path) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("INSERT INTO entries (key, expiration, size, value) VALUES (x'6f6c64', 1, 1, x'00')")
    finally:
        connection.close()


def _expired_rows(path: Path) -> int:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        return int(connection.execute("SELECT count(*) FROM entries WHERE expiration = 1").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count the host's descriptors")
def test_a_thousand_namespaces_work_under_a_limit_of_1024_descriptors(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", {"kv.yaml": "workers: []\n"})
    persist = tmp_path / "data"
    env = {"WORKERHOST_SWEEP_INTERVAL": "0.5"}
    server = LimitedServer(project / "kv.yaml", persist, args=("--no-reload",), env=env).start()
    assert server.process is not None
    pid = server.process.pid
    assert f"Max open files            {LIMIT}" in Path(f"/proc/{pid}/limits").read_text()
    most = 0
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            ids = []
            for n in range(MAX_NAMESPACES):
                created = http.post(NAMESPACES, json={"title": f"ns{n:04}"})
                assert created.status_code == 200, (n, created.text)
                ids.append(created.json()["result"]["id"])
            for n, namespace_id in enumerate(ids):
                value = f"{NAMESPACES}/{namespace_id}/values/k"
                assert http.put(value, content=f"value {n}".encode()).status_code == 200
                assert http.get(value).text == f"value {n}"
                if n % 50 == 0:
                    most = max(most, _descriptors(pid))
            swept = [persist / "kv" / f"{namespace_id}.sqlite3" for namespace_id in sorted(ids)[::97] + [max(ids)]]
            for path in swept:
                _plant_expired(path)

            def all_swept() -> bool:
                nonlocal most
                most = max(most, _descriptors(pid))
                return all(_expired_rows(path) == 0 for path in swept)

            eventually(all_swept, what="the sweep to visit every namespace")
            for namespace_id in ids[::10]:
                assert http.get(f"{NAMESPACES}/{namespace_id}/values/k").status_code == 200
        assert most < LIMIT // 2, most  # the pool takes a quarter; the rest is sockets and the interpreter
    finally:
        server.stop()
    assert "Too many open files" not in server.stderr()
