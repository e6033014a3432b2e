"""Auth and exposure, pinned against the real host (``workerhost dev`` in a subprocess).

- The default bind is loopback; a non-loopback bind without API tokens is refused (also
  ``runtime/server/test_server.py``, ``runtime/config/test_exposure.py``, ``runtime/host/test_e2e.py``).
- Every REST route answers 401 code 10000 to a missing or wrong credential, 403 to a read-only token
  on a write (the API app alone: ``runtime/api/test_auth.py``).
- With tokens set, the dev routes take them as the REST API does: ``/__workerhost/status`` a read or
  write token, the scheduled runs a write token (401 / 403 otherwise, and nothing runs); without
  tokens they stay open.
- Secret values from ``.dev.vars`` and the API tokens never appear in the logs, the banner, error
  pages, ``/__workerhost/status`` or any REST API response, in any escaped or encoded form a
  traceback or log line gives them (``runtime/config/test_redaction.py`` holds the forms one by one).
- No request reaches a file outside the persist directory, whatever path-bearing input it carries.
"""

from __future__ import annotations

import html
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
    TRICKY_SECRET,
    WRITE_TOKEN,
    file_tree,
    raw_request,
    request_bytes,
    snapshot,
)

# What reaches files is the question here; the exposure rules themselves are the same on every engine.
pytestmark = pytest.mark.sqlite_only

HIDDEN = (SECRET, TRICKY_SECRET, WRITE_TOKEN, READ_TOKEN)


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
        server.client.get("/__workerhost/status", headers=auth),
        server.client.get("/__workerhost/scheduled", params={"worker": "probe"}, headers=auth),
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
    allowed = r"[0-9a-f]{32}\.sqlite3|catalog\.sqlite3|changes\.(jsonl(\.1)?|watch)"  # and the live feed's journal
    assert all(re.fullmatch(allowed, name) for name in namespace_files), inside
    assert [path.name for path in server.persist_to.iterdir()] == ["kv"]


# --- secrets in escaped and encoded forms ---------------------------------------------------------

LEAK_FORMS = [
    "raw",
    "keyerror",
    "keyerror-of-repr",
    "repr",
    "repr-both-quotes",
    "ascii",
    "bytes",
    "bytes-both-quotes",
    "json",
    "json-utf8",
    "json-upper-hex",
    "quote",
    "quote-all",
    "quote-plus",
    "quote-lower-hex",
    "html",
    "repr-of-json",
    "json-of-repr",
    "quote-of-json",
    "quote-twice",
    "html-of-repr",
]
# What may stay around "[secret]" on the line that showed the value: the quotes, backslashes and b
# prefix of a repr, JSON's quotes, a percent-encoded quote, and HTML's (escaped once more on the HTML
# page). Any character of the value itself left over fails the match.
_AROUND = r"(?:b|['\"\\]|%22|%27|%5C|&(?:amp;)*(?:quot|#x27|#34|#39);)*"
_SHOWN = re.compile(rf"{_AROUND}\[secret\]{_AROUND}")
_LEAK_LINES = re.compile(
    r"^(?:RuntimeError|KeyError): (?:[\"']|&quot;|&#x27;)?(?:leaked|later): (.*?)(?=</pre>|$)", re.MULTILINE
)


def assert_blanked(text: str, where: str) -> int:
    """Every line that showed a hidden value shows ``[secret]`` and nothing of the value; returns how many."""
    lines = _LEAK_LINES.findall(text)
    for line in lines:
        assert _SHOWN.fullmatch(line), f"{where}: {line!r}"
    for hidden in (TRICKY_SECRET, "kéy", "k\\xc3\\xa9y", "k\\u00e9y", "k%C3%A9y", "k%c3%a9y", "k&#x27;", *HIDDEN):
        assert hidden not in text, (where, hidden)
    return len(lines)


@pytest.mark.parametrize("form", LEAK_FORMS)
@pytest.mark.parametrize("what", ["secret", "token"])
def test_a_hidden_value_never_shows_in_any_escaped_or_encoded_form(server: DevServer, what: str, form: str) -> None:
    # TRICKY_SECRET (.dev.vars) holds a backslash, a tab, a quote, non-ASCII, an emoji and URL and HTML
    # specials, so each form differs from the value; the token comes from the request's own header.
    params = {"form": form, "what": what}
    auth = {"Authorization": f"Bearer {READ_TOKEN}"}
    logged = assert_blanked(server.stderr(), "the log")
    for accept in ("text/plain", "text/html"):
        response = server.client.get("/probe/leak", params=params, headers={**auth, "Accept": accept})
        assert response.status_code == 500 and response.headers["content-type"].startswith(accept)
        assert assert_blanked(response.text, f"{accept} page") == 1, response.text
    # Work that fails after the response is logged alone.
    assert server.client.get("/probe/leak", params={**params, "later": "1"}, headers=auth).text == "queued"
    eventually(lambda: assert_blanked(server.stderr(), "the log") >= logged + 3, what="the three failures in the log")


def test_a_returned_value_shown_cut_short_shows_no_part_of_a_secret(server: DevServer) -> None:
    # The 500 for a non-Response shows its repr cut at 200 characters: cut first and blanked after, the
    # cut fell inside the secret and its first half showed.
    for accept in ("text/plain", "text/html"):
        response = server.client.get("/probe/return-secret", headers={"Accept": accept})
        assert response.status_code == 500
        shown = response.text if accept == "text/plain" else html.unescape(response.text)
        assert "'value': \"[secret]\"}" in shown and "C:" not in shown, shown
    eventually(lambda: "returned builtins.dict" in server.stderr(), what="the log line")
    assert "'value': \"[secret]\"}" in server.stderr() and "C:\\" not in server.stderr()


def test_a_reload_error_at_the_status_route_hides_tokens(tmp_path: Path) -> None:
    # A script that fails to import may quote anything it read, an API token from the environment too;
    # the status route shows a read-token holder that error, never the write token in it.
    import asyncio

    from runtime import create_app, load_config
    from runtime.host.reload import QueueSource
    from tests.support import app_client

    project = write_files(tmp_path, PROBE_PROJECT)
    app = create_app(load_config(project / "kv.yaml", environ=dict(API_ENV)), change_source=QueueSource(), crons=False)

    async def reload_and_look() -> str:
        async with app_client(app) as client:
            script = project / "probe" / "worker.py"
            script.write_text(f"import json\nraise KeyError(json.dumps({WRITE_TOKEN!r} + {TRICKY_SECRET!r}))\n")
            assert not await app.workerhost.reload({str(script)})
            status = await client.get("/__workerhost/status", headers={"Authorization": f"Bearer {READ_TOKEN}"})
            error: str = status.json()["reload"]["error"]
            return error

    error = asyncio.run(reload_and_look())
    assert error.startswith("probe/worker.py failed to import:") and error.endswith('KeyError: \'"[secret][secret]"\'')


# --- dev routes follow the API's auth -------------------------------------------------------------

DEV_CREDENTIALS = {
    "none": ({}, 401, 401),
    "wrong bearer": ({"Authorization": "Bearer not-a-token"}, 401, 401),
    "key without email": ({"X-Auth-Key": WRITE_TOKEN}, 401, 401),
    "read bearer": ({"Authorization": f"Bearer {READ_TOKEN}"}, 200, 403),
    "read key": ({"X-Auth-Email": "a@example.com", "X-Auth-Key": READ_TOKEN}, 200, 403),
    "write bearer": ({"Authorization": f"Bearer {WRITE_TOKEN}"}, 200, 200),
    "write key": ({"X-Auth-Email": "a@example.com", "X-Auth-Key": WRITE_TOKEN}, 200, 200),
}


@pytest.mark.parametrize(("credentials", "status", "run"), list(DEV_CREDENTIALS.values()), ids=list(DEV_CREDENTIALS))
@pytest.mark.parametrize("target", ["/__workerhost/status", "/__workerhost/scheduled?worker=probe&", "/__scheduled?"])
def test_with_tokens_set_the_dev_routes_take_one_as_the_rest_api_does(
    server: DevServer, target: str, credentials: dict[str, str], status: int, run: int
) -> None:
    # Status shows absolute paths: a read token will do. Running a handler writes: a write token only.
    if target.endswith("status"):
        expected = status
    else:
        expected = run
        target += "cron=" + "+".join(["0", "0", "1", "1", "*", re.sub(r"\W", "", str(credentials)) or "none"])
    before = snapshot(server.persist_to)
    response = raw_request(server.port, request_bytes("GET", target, credentials))
    assert response.status == expected, response.text
    if expected != 200:
        assert json.loads(response.body)["errors"] == [{"code": 10000, "message": "Authentication error"}]
        assert snapshot(server.persist_to) == before  # nothing ran
    elif not target.endswith("status"):
        assert snapshot(server.persist_to) != before  # the handler stored its cron


def test_the_banner_says_the_dev_routes_need_a_token(server: DevServer) -> None:
    assert re.search(r"^Dev .*/__scheduled\?worker=NAME&cron=\.\.\.   \(API token needed\)$", server.stdout(), re.M)


def test_without_tokens_the_dev_routes_stay_open(tmp_path: Path) -> None:
    import asyncio

    from runtime import create_app, load_config
    from tests.support import app_client

    project = write_files(tmp_path, PROBE_PROJECT)
    app = create_app(load_config(project / "kv.yaml", environ={}), crons=False)

    async def ask() -> list[int]:
        async with app_client(app) as client:
            return [
                (await client.get("/__workerhost/status")).status_code,
                (await client.get("/__workerhost/scheduled", params={"worker": "probe"})).status_code,
                (await client.get("/__scheduled")).status_code,
            ]

    assert asyncio.run(ask()) == [200, 200, 200]
