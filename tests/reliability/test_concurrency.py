"""Two hosts (or one host serving from two processes) and out-of-process writers on the same namespaces at once.

Both hosts start together on an empty store (so they race to create the namespaces), then clients
write through each host's handler and REST API while other processes write the same store directly
(through ``bindings`` and the ``workerhost kv`` CLI), everyone also overwriting one hot key.
Afterwards: every acknowledged write is there with its value, each host read the others' writes at
once, the hot key holds one of the values written to it, no request got a 5xx, no log mentions
"database is locked" or an error, and (SQLite) every file passes ``PRAGMA integrity_check``.

Each case runs on SQLite files and on one Redis server shared by every host and process.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bindings import Store, open_store
from tests.bindings.writer_proc import value_for
from tests.redis_fixtures import STORAGE_ENV, store_location
from tests.redis_support import RedisServer
from tests.support import ROOT, DevServer, write_files

from .crash import PROJECT
from .support import NAMESPACES, assert_sound

HOT_KEY = "shared"
REQUESTS_PER_CLIENT = 60
KEYS_PER_WRITER = 300


def bindings_writer(persist: Path, namespace_id: str, tag: str, count: int) -> subprocess.Popen[str]:
    """Writes through ``bindings`` in its own process, with its own store (``tests/bindings/writer_proc.py``)."""
    command = [sys.executable, "-m", "tests.bindings.writer_proc", str(persist), namespace_id, tag, str(count), "8"]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# Writers in processes of their own that need no server. Each gets (persist directory, namespace id, tag,
# count), writes `count` keys "<tag>-<n>" with the value `value_for(key)` (and overwrites HOT_KEY), and
# prints "ack <key>" once a write is acknowledged.
def cli_writer(persist: Path, namespace_id: str, tag: str, count: int) -> subprocess.Popen[str]:
    """Writes by running `workerhost kv bulk put` and `kv key put` (``tests/reliability/cli_writer.py``)."""
    command = [sys.executable, "-m", "tests.reliability.cli_writer", str(persist), namespace_id, tag, str(count)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


WRITERS = {"bindings": bindings_writer, "cli": cli_writer}

# The hosts to run, each as extra `workerhost dev` arguments.
HOSTS = [
    pytest.param([(), ()], id="two hosts"),
    pytest.param([("--workers", "2")], id="one host with 2 processes"),  # `workerhost dev --workers 2`
]


@pytest.fixture(params=["sqlite", "redis"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The store every host and writer process uses: SQLite files, or one Redis server (by WORKERHOST_STORAGE)."""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        monkeypatch.setenv(STORAGE_ENV, server.location())
    else:
        monkeypatch.delenv(STORAGE_ENV, raising=False)
    return str(request.param)


async def _read_everything(store: Store, namespace_id: str) -> dict[str, bytes]:
    try:
        storage = await store.namespace(namespace_id)
        found: dict[str, bytes] = {}
        after = None
        while True:
            rows, more = await storage.list(b"", after, 1000, 0)
            entries = await storage.get_many([row[0] for row in rows])
            found.update({row[0].decode(): entry.value for row, entry in zip(rows, entries, strict=True) if entry})
            if not more:
                return found
            after = rows[-1][0]
    finally:
        await store.close()


def read_everything(persist: Path, namespace_id: str) -> dict[str, bytes]:
    """Every key and value of a namespace, read through a store of its own, as another process would."""
    return asyncio.run(_read_everything(open_store(store_location(persist)), namespace_id))


class Client:
    """One client of one host: handler puts, REST puts and bulk writes of its own keys, plus the hot key."""

    def __init__(self, server: DevServer, namespace_id: str, name: str) -> None:
        self.server = server
        self.rest = f"{NAMESPACES}/{namespace_id}"
        self.name = name
        self.acked: dict[str, bytes] = {}
        self.hot: list[bytes] = []
        self.failures: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=120) as http:
            for n in range(REQUESTS_PER_CLIENT):
                self._one(http, n)

    def _one(self, http: httpx.Client, n: int) -> None:
        key = f"{self.name}-{n:04}"
        value = f"{key} by {self.name}".encode()
        pairs: dict[str, bytes] = {key: value}
        if n % 3 == 0:
            response = http.post("/w/put", params={"ns": "A", "key": key}, content=value)
        elif n % 3 == 1:
            response = http.put(f"{self.rest}/values/{quote(key, safe='')}", content=value)
        else:
            pairs = {f"{key}/{i}": f"{key}/{i} in a bulk".encode() for i in range(5)}
            pairs[HOT_KEY] = f"hot from {key}".encode()
            body = [{"key": k, "value": v.decode()} for k, v in pairs.items()]
            response = http.put(f"{self.rest}/bulk", json=body)
        if response.status_code != 200:
            self.failures.append(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            )
            return
        self.hot += [pairs.pop(HOT_KEY)] if HOT_KEY in pairs else []
        self.acked.update(pairs)


def acknowledged_by(process: subprocess.Popen[str]) -> tuple[dict[str, bytes], str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    keys = [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("ack ")]
    return {key: value_for(key).encode() for key in keys}, err


@pytest.mark.parametrize("hosts", HOSTS)
def test_hosts_and_other_processes_write_the_same_namespaces_at_once(
    tmp_path: Path, hosts: list[tuple[str, ...]], engine: str
) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    persist = tmp_path / "data"
    with ExitStack() as stack, ThreadPoolExecutor(16) as pool:
        servers = [DevServer(project / "kv.yaml", persist, args=("--no-reload", *args)) for args in hosts]
        for started in pool.map(lambda server: server.start(), servers):  # at once, on an empty directory
            stack.callback(started.stop)
        ids = [{b["name"]: b["namespace_id"] for b in server.status()["workers"][0]["bindings"]} for server in servers]
        assert all(found == ids[0] for found in ids), ids  # they agreed on the namespaces
        namespace_id = ids[0]["A"]
        writers = [
            start(persist, namespace_id, f"{name}{n}", KEYS_PER_WRITER)
            for name, start in WRITERS.items()
            for n in range(2)
        ]
        clients = [Client(server, namespace_id, f"h{h}c{c}") for h, server in enumerate(servers) for c in range(4)]
        for finished in [pool.submit(client.run) for client in clients]:
            finished.result()
        written = [acknowledged_by(writer) for writer in writers]
        # Each side reads what the others wrote, at once.
        for server in servers:
            for client in clients:
                key = next(iter(client.acked))
                assert server.client.get(f"{client.rest}/values/{quote(key, safe='')}").content == client.acked[key]
    failures = [failure for client in clients for failure in client.failures]
    assert not failures, failures[:5]
    expected: dict[str, bytes] = {}
    for client in clients:
        expected.update(client.acked)
    for acked, err in written:
        assert "is locked" not in err
        expected.update(acked)
    assert len(expected) == len(clients) * REQUESTS_PER_CLIENT * 7 // 3 + len(writers) * KEYS_PER_WRITER
    stored = read_everything(persist, namespace_id)
    missing = {key for key, value in expected.items() if stored.get(key) != value}
    assert not missing, sorted(missing)[:5]
    hot = {value for client in clients for value in client.hot} | {
        f"{key}".encode() for acked, _ in written for key in acked
    }
    assert stored[HOT_KEY] in hot
    for server in servers:
        log = server.stderr()
        # "is locked", not "locked": the watchdog's "blocked the event loop" note is no failure.
        assert "is locked" not in log and "[error]" not in log and " 500 " not in log, log[-2000:]
    if engine == "sqlite":
        assert_sound(persist)
