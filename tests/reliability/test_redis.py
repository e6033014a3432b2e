"""Hosts sharing one Redis, and what they do when Redis goes away or can lose writes (README "Reliability").

Every host here is a real ``workerhost dev`` on a port of its own, with ``WORKERHOST_STORAGE`` naming a
real ``redis-server``. Concurrent writers on two hosts (and ``--workers 2``) are in
``test_concurrency.py``; kills of Redis under load in ``test_redis_crash.py``.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.redis_support import RedisServer
from tests.support import DevServer, eventually, write_files

from .crash import PROJECT
from .support import NAMESPACES

pytestmark = pytest.mark.sqlite_only  # each test names its own Redis; the switch would only rename it


def _bindings(server: DevServer) -> dict[str, str]:
    return {b["name"]: b["namespace_id"] for b in server.status()["workers"][0]["bindings"]}


def _server(project: Path, location: str, name: str, *args: str) -> DevServer:
    env = {"WORKERHOST_STORAGE": location}
    return DevServer(project / "kv.yaml", project.parent / name, args=("--no-reload", *args), env=env)


@contextlib.contextmanager
def _host(project: Path, location: str, name: str, *args: str) -> Iterator[DevServer]:
    server = _server(project, location, name, *args).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "project", PROJECT)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def test_two_hosts_on_one_redis_see_each_others_writes_at_once(project: Path, redis_server: RedisServer) -> None:
    location = redis_server.location()
    with _host(project, location, "a") as a, _host(project, location, "b") as b:
        assert _bindings(a) == _bindings(b)  # one catalog: the namespaces kv.yaml declares exist once
        namespace = _bindings(a)["A"]
        values = f"{NAMESPACES}/{namespace}/values"
        # A handler's write on one host, read over REST on the other, and the reverse.
        assert a.client.post("/w/put", params={"ns": "A", "key": "from a"}, content=b"one").status_code == 200
        assert b.client.get(f"{values}/{quote('from a')}").content == b"one"
        assert b.client.put(f"{values}/from-b", content=b"two", params={"expiration_ttl": "3600"}).status_code == 200
        listed = a.client.get(f"{NAMESPACES}/{namespace}/keys", params={"prefix": "from-b"}).json()["result"]
        assert [item["name"] for item in listed] == ["from-b"] and listed[0]["expiration"] > 0
        # A REST bulk write on one host, listed whole by the other.
        pairs = [{"key": f"bulk/{i:03}", "value": f"v{i}", "metadata": {"i": i}} for i in range(250)]
        assert a.client.put(f"{NAMESPACES}/{namespace}/bulk", json=pairs).json()["success"]
        keys, cursor = [], None
        while True:
            params = {"prefix": "bulk/", "limit": "100", **({"cursor": cursor} if cursor else {})}
            page = b.client.get(f"{NAMESPACES}/{namespace}/keys", params=params).json()
            keys += [(item["name"], item["metadata"]) for item in page["result"]]
            cursor = page["result_info"]["cursor"]
            if not cursor:
                break
        assert keys == [(f"bulk/{i:03}", {"i": i}) for i in range(250)]
        # Namespaces too: made on one, used on the other; deleted on one, gone on the other at once.
        created = b.client.post(NAMESPACES, json={"title": "made on b"}).json()["result"]["id"]
        assert a.client.put(f"{NAMESPACES}/{created}/values/k", content=b"x").status_code == 200
        assert a.client.delete(f"{NAMESPACES}/{created}").status_code == 200
        refused = b.client.put(f"{NAMESPACES}/{created}/values/k", content=b"y")
        assert (refused.status_code, refused.json()["errors"][0]["code"]) == (404, 10013)
        taken = a.client.post(NAMESPACES, json={"title": "crash-a"})  # declared in kv.yaml: made once, by either
        assert (taken.status_code, taken.json()["errors"][0]["code"]) == (400, 10014)


def test_when_redis_goes_away_requests_fail_clearly_and_the_host_recovers_by_itself(
    project: Path, own_server: RedisServer
) -> None:
    with _host(project, own_server.location(), "data") as host:
        namespace = _bindings(host)["A"]
        value = f"{NAMESPACES}/{namespace}/values/kept"
        assert host.client.put(value, content=b"acknowledged").status_code == 200
        pid = host.process.pid if host.process else None
        own_server.kill()
        unreachable = f"Redis at 127.0.0.1:{own_server.port} is unreachable: Connection refused"
        refused = host.client.get(value)
        assert refused.status_code == 503
        assert refused.json() == {
            "success": False,
            "errors": [{"code": 10002, "message": unreachable}],
            "messages": [],
            "result": None,
        }
        failed = host.client.post("/w/put", params={"ns": "A", "key": "k"}, content=b"v")
        assert failed.status_code == 500 and unreachable in failed.text  # the handler's KV call raised it
        assert host.status()["storage"]["location"].startswith(f"redis://127.0.0.1:{own_server.port}/0")
        own_server.restart()
        # No restart of the host: the next requests simply work, on the data Redis kept.
        assert eventually(lambda: host.client.get(value).content == b"acknowledged", what="recovery")
        assert host.client.post("/w/put", params={"ns": "A", "key": "k"}, content=b"v").status_code == 200
        assert host.process is not None and host.process.pid == pid and host.process.poll() is None
        # Logged in one line each, not a traceback per request while Redis is away.
        path = f"/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces/{namespace}/values/kept"
        assert f"GET {path} failed: {unreachable}\n" in host.stderr()


@pytest.fixture
def loose_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "loose", {"appendfsync": "everysec"}).start()  # Redis's own default
    yield server
    server.stop()


def test_a_redis_that_can_lose_writes_is_said_plainly_in_the_banner_and_the_log(
    project: Path, loose_server: RedisServer
) -> None:
    with _host(project, loose_server.location(), "data") as host:
        risk = "Acknowledged KV writes of the last second or so can be lost if Redis or its machine crashes"
        fix = "run Redis with appendonly yes, appendfsync always and maxmemory-policy noeviction"
        assert f"WARNING    {risk}" in host.stdout() and fix in host.stdout()
        assert risk in host.stderr() and fix in host.stderr()
        storage = host.status()["storage"]
        assert storage["durable"] is False and risk in storage["warning"]


def test_require_durable_refuses_to_start_on_such_a_redis(project: Path, loose_server: RedisServer) -> None:
    host = _server(project, loose_server.location(), "data", "--require-durable")
    done = subprocess.run(host.command(), env=host.env, cwd=project, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "workerhost: error: the KV store can lose acknowledged writes, and --require-durable "
        "(WORKERHOST_REQUIRE_DURABLE) is set: Acknowledged KV writes of the last second or so can be lost"
    )


def test_a_durable_redis_starts_without_a_warning_even_when_required(project: Path, own_server: RedisServer) -> None:
    with _host(project, own_server.location(), "data", "--require-durable") as host:
        assert "WARNING" not in host.stdout() and "[warning]" not in host.stderr()
        assert host.status()["storage"]["durable"] is True
        assert httpx.get(f"{host.url}/__workerhost/status").status_code == 200
