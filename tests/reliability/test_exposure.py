"""Auth and exposure, pinned against the real host (``workerhost dev`` in a subprocess).

- The default bind is loopback; a non-loopback bind without API tokens is refused (also
  ``runtime/server/test_server.py``, ``runtime/config/test_exposure.py``, ``runtime/host/test_e2e.py``).
- Every REST route answers 401 code 10000 to a missing or wrong credential, 403 to a read-only token
  on a write (the API app alone: ``runtime/api/test_auth.py``).
- Secret values from ``.dev.vars`` and the API tokens never appear in the logs, the banner, error
  pages, ``/__workerhost/status`` or any REST API response.
- No request reaches a file outside the persist directory, whatever path-bearing input it carries.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.api.app import ROUTES, ApiRoute
from runtime.api.auth import Access
from runtime.config import DEFAULT_ACCOUNT_ID
from tests.support import DevServer, eventually, write_files

from .support import (
    API_ENV,
    NAMESPACES,
    PROBE_PROJECT,
    READ_TOKEN,
    SECRET,
    WRITE_TOKEN,
    file_tree,
    raw_request,
    request_bytes,
    snapshot,
)

# What reaches files is the question here; the exposure rules themselves are the same on every engine.
pytestmark = pytest.mark.sqlite_only

HIDDEN = (SECRET, WRITE_TOKEN, READ_TOKEN)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    root = tmp_path_factory.mktemp("exposure")
    project = write_files(root / "project", PROBE_PROJECT)
    write_files(root, {"outside/sentinel.txt": "SENTINEL-CONTENT-outside-the-store\n", "etc/passwd": "root:x:0:0\n"})
    server = DevServer(project / "kv.yaml", project / "data", args=("--no-reload",), env=API_ENV).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ns(server: DevServer) -> str:
    namespace_id: str = server.status()["workers"][0]["bindings"][0]["namespace_id"]
    return namespace_id


# --- where the host listens -----------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the listening sockets on ``port``, from /proc (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.partition(":")
            if state == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the socket table from /proc")
def test_the_default_bind_is_loopback_only(server: DevServer) -> None:
    assert "--host" not in server.command()
    assert listening_addresses(server.port) == {"0100007F"}  # 127.0.0.1, and nothing else
    assert f"Ready on http://127.0.0.1:{server.port}" in server.stdout()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.com"])
def test_a_non_loopback_bind_without_tokens_is_refused(tmp_path: Path, host: str) -> None:
    import subprocess

    from tests.support import ROOT

    write_files(tmp_path, {"kv.yaml": ""})
    result = subprocess.run(
        [sys.executable, "-m", "runtime", "dev", "--host", host, "--port", "0"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"workerhost: error: refusing to listen on {host}: it is not a loopback address")
    assert not (tmp_path / ".workerhost").exists()  # refused before anything was opened


# --- credentials ----------------------------------------------------------------------------------


def route_target(path: str, ns: str) -> str:
    return "/client/v4" + path.replace("{account_id}", DEFAULT_ACCOUNT_ID).replace("{namespace_id}", ns).replace(
        "{key_name:kvkey}", "k"
    )


GUARDED = [route for route in ROUTES if route.access is not None]
BAD_CREDENTIALS = {
    "none": {},
    "wrong bearer": {"Authorization": "Bearer not-a-token"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic scheme": {"Authorization": f"Basic {WRITE_TOKEN}"},
    "wrong key": {"X-Auth-Email": "a@example.com", "X-Auth-Key": "not-a-token"},
    "key without email": {"X-Auth-Key": WRITE_TOKEN},
    "token with a suffix": {"Authorization": f"Bearer {WRITE_TOKEN}x"},
}


@pytest.mark.parametrize("credentials", list(BAD_CREDENTIALS.values()), ids=list(BAD_CREDENTIALS))
@pytest.mark.parametrize("route", GUARDED, ids=[f"{r.method} {r.operation}" for r in GUARDED])
def test_every_route_refuses_a_missing_or_wrong_credential_with_401_code_10000(
    server: DevServer, ns: str, route: ApiRoute, credentials: dict[str, str]
) -> None:
    before = snapshot(server.persist_to)
    headers = {**credentials, "Content-Type": "application/json"}
    request = request_bytes(route.method, route_target(route.path, ns), headers, b'{"title": "x"}')
    response = raw_request(server.port, request)
    assert response.status == 401, response.text
    assert json.loads(response.body) == {
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
        "messages": [],
        "result": None,
    }
    assert snapshot(server.persist_to) == before


WRITES = [route for route in GUARDED if route.access is Access.WRITE]


@pytest.mark.parametrize("route", WRITES, ids=[f"{r.method} {r.operation}" for r in WRITES])
def test_a_read_token_gets_403_on_every_write(server: DevServer, ns: str, route: ApiRoute) -> None:
    before = snapshot(server.persist_to)
    headers = {"Authorization": f"Bearer {READ_TOKEN}", "Content-Type": "application/json"}
    request = request_bytes(route.method, route_target(route.path, ns), headers, b'{"title": "x"}')
    response = raw_request(server.port, request)
    assert response.status == 403
    assert json.loads(response.body)["errors"] == [{"code": 10000, "message": "Authentication error"}]
    assert snapshot(server.persist_to) == before


def test_token_verification_refuses_a_wrong_token_with_code_1000(server: DevServer) -> None:
    response = server.client.get("/client/v4/user/tokens/verify", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["errors"] == [{"code": 1000, "message": "Invalid API Token"}]


# --- secrets --------------------------------------------------------------------------------------


def test_secrets_and_tokens_never_appear_in_logs_pages_status_or_api_responses(server: DevServer, ns: str) -> None:
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
    responses: list[httpx.Response] = [
        server.client.get("/probe/raise", headers={"accept": "text/html"}),  # the dev error page, HTML
        server.client.get("/probe/raise"),  # ... and plain text
        server.client.get("/probe/raise-later"),  # wait_until work that raises it
        server.client.get(f"/probe/{SECRET}", params={"token": WRITE_TOKEN}),  # in the path and the query
        server.client.get("/__workerhost/status"),
        server.client.get("/__workerhost/scheduled", params={"worker": "probe"}),
        server.client.get("/client/v4/user/tokens/verify", headers=auth),
        server.client.get("/client/v4/accounts", headers=auth),
        server.client.get("/client/v4/memberships", headers={"X-Auth-Email": "a@b.c", "X-Auth-Key": WRITE_TOKEN}),
        server.client.get(NAMESPACES, headers=auth),
        server.client.get(f"{NAMESPACES}/{ns}/keys", headers=auth),
        server.client.get(f"{NAMESPACES}/{ns}/values/missing", headers=auth),
        server.client.get(NAMESPACES, headers={"Authorization": f"Bearer {WRITE_TOKEN}-wrong"}),
        server.client.put(f"{NAMESPACES}/{ns}/values/k", headers={"Authorization": f"Bearer {READ_TOKEN}"}),
        server.client.get("/client/v4/openapi.json"),
    ]
    for response in responses:
        for hidden in HIDDEN:
            assert hidden not in response.text, (response.url, response.text[:300])
    assert "RuntimeError: cannot use [secret]" in responses[0].text and "cannot use [secret]" in responses[1].text
    # A path is shown in the log, so a secret in one is blanked there too.
    server.client.get(f"/nowhere/{READ_TOKEN}")
    eventually(lambda: "GET /nowhere/[secret] 404" in server.stderr(), what="the request log line, blanked")
    eventually(lambda: "later: [secret]" in server.stderr(), what="the wait_until error in the log")
    assert "GET /probe/[secret] 404" in server.stderr()
    assert re.search(r"env\.API_KEY\s+secret \(value hidden\)", server.stdout())
    logs = server.stdout() + server.stderr()
    for hidden in HIDDEN:
        assert hidden not in logs


# --- files outside the persist directory ----------------------------------------------------------

OUTSIDE_IDS = ["..", "..%2F..%2Foutside", "%2e%2e%2f%2e%2e%2foutside%2fsentinel.txt", "..%5Coutside", "%2Fetc%2Fpasswd"]
TRAVERSING_KEYS = [
    "..%2F..%2F..%2Foutside%2Fsentinel.txt",
    "%2Fetc%2Fpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "kv%2Fcatalog.sqlite3",
]
DEV_ROUTE_TARGETS = [
    "/__workerhost/scheduled?worker=../../outside/sentinel.txt&cron=../../etc/passwd",
    "/__workerhost/scheduled?worker=probe&cron=..%2F..%2Fetc%2Fpasswd&time=1e400",
    "/__scheduled?cron=/etc/passwd",
    "/__workerhost/status/../../outside/sentinel.txt",
    "/__workerhost/..%2F..%2Foutside%2Fsentinel.txt",
    "/client/v4/openapi.json/../../outside/sentinel.txt",
    "/probe/../../outside/sentinel.txt",
    "/%2e%2e/%2e%2e/outside/sentinel.txt",
]


def test_no_request_reaches_a_file_outside_the_persist_directory(server: DevServer, ns: str) -> None:
    root = server.config.parent.parent
    outside_before = file_tree(root, skip=server.persist_to)
    auth = {"Authorization": f"Bearer {WRITE_TOKEN}", "Content-Type": "application/json"}
    targets: list[tuple[str, str, bytes]] = []
    for namespace_id in OUTSIDE_IDS:
        for method, suffix, body in [
            ("GET", "", b""),
            ("PUT", "", b'{"title": "t"}'),
            ("DELETE", "", b""),
            ("PUT", "/values/k", b"v"),
            ("GET", "/values/k", b""),
            ("PUT", "/bulk", b"[]"),
        ]:
            targets.append((method, f"{NAMESPACES}/{namespace_id}{suffix}", body))
    for key in TRAVERSING_KEYS:
        for method in ("PUT", "GET", "DELETE"):
            targets.append((method, f"{NAMESPACES}/{ns}/values/{key}", b"written under a key, not a file"))
    targets.append(("POST", NAMESPACES, b'{"title": "../../outside/sentinel.txt"}'))
    targets += [("GET", target, b"") for target in DEV_ROUTE_TARGETS]
    for method, target, body in targets:
        response = raw_request(server.port, request_bytes(method, target, auth, body))
        assert response.status < 500, (method, target, response.text)
        assert b"SENTINEL-CONTENT" not in response.body and b"root:x:0:0" not in response.body, (method, target)
    outside_after = file_tree(root, skip=server.persist_to)
    logs = {name for name in outside_after if re.fullmatch(r"project/server-\d+\.(out|err)", name)}
    assert {k: v for k, v in outside_after.items() if k not in logs} == {
        k: v for k, v in outside_before.items() if k not in logs
    }
    inside = {path.name for path in (server.persist_to / "kv").iterdir()}
    namespace_files = {name for name in inside if not name.endswith(("-wal", "-shm"))}
    assert all(re.fullmatch(r"[0-9a-f]{32}\.sqlite3|catalog\.sqlite3", name) for name in namespace_files), inside
    assert [path.name for path in server.persist_to.iterdir()] == ["kv"]
