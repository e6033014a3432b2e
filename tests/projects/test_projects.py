"""Cloudflare-shaped projects, each run with ``workerhost dev`` in its folder as a user runs it.

Every project under ``tests/projects/`` is laid out as Cloudflare's docs and examples lay one out
(``wrangler.jsonc`` or ``wrangler.toml``, ``src/``, ``pyproject.toml``, ``.dev.vars``), and is
started with no flag: only a free port and a data directory, through the environment.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runtime.config.wrangler import local_namespace
from tests.support import PROJECTS, ROOT, ProjectServer, eventually, project_server

TEXT = "text/plain;charset=UTF-8"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


# --- hello -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hello(data: Path) -> Iterator[ProjectServer]:
    with project_server("hello", data / "hello") as server:
        yield server


def test_hello_answers_with_cloudflares_content_types(hello: ProjectServer) -> None:
    answer = hello.client.get("/")
    assert (answer.status_code, answer.text, answer.headers["content-type"]) == (200, "Hello world!", TEXT)
    data = hello.client.get("/json", headers={"user-agent": "tester"})
    assert data.headers["content-type"] == "application/json"
    assert data.json() == {"hello": "world", "ua": "tester", "none": None}
    raw = hello.client.get("/bytes")
    assert (raw.content, raw.headers.get("content-type"), raw.headers["x-kind"]) == (b"\x00\x01", None, "bytes")
    assert hello.client.get("/cf").json() == {"colo": "LOCAL", "method": "GET"}
    moved = hello.client.get("/redirect")
    assert (moved.status_code, moved.headers["location"]) == (307, "/json")


def test_hello_fetches_outbound_and_reads_the_response(hello: ProjectServer) -> None:
    proxied = hello.client.get("/proxy").json()
    assert proxied == {
        "status": 200,
        "type": "application/json",
        "data": {"hello": "world", "ua": "proxied", "none": None},
    }


def test_the_banner_names_the_config_file_it_found(hello: ProjectServer) -> None:
    out = hello.stdout()
    assert out.startswith("workerhost dev  wrangler.jsonc  (version 1)")
    assert "hello-python  src/entry.py  (WorkerEntrypoint)" in out
    assert hello.status()["config"] == str(PROJECTS / "hello" / "wrangler.jsonc")


# --- KV with a placeholder id ------------------------------------------------------------------------


def _kv_cli(folder: Path, data: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_")}
    env.update(PYTHONPATH=str(ROOT), WORKERHOST_PERSIST_TO=str(data))
    command = [sys.executable, "-m", "runtime", "kv", *argv]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=60)


def test_a_placeholder_kv_id_names_one_local_namespace_across_restarts_cli_and_api(data: Path) -> None:
    store = data / "kv-project"
    namespace = local_namespace("<YOUR_KV_NAMESPACE_ID>")
    with project_server("kv", store) as server:
        assert server.client.get("/").text == "(none)"
        assert server.client.put("/", content="baz").text == "stored"
        assert f'env.FOO  KV namespace "<YOUR_KV_NAMESPACE_ID>" ({namespace.id})' in server.stdout()
        listed = server.client.get("/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces")
        assert {"id": namespace.id, "title": "<YOUR_KV_NAMESPACE_ID>", "supports_url_encoding": True} in listed.json()[
            "result"
        ]
    with project_server("kv", store) as server:  # a restart finds the same data
        assert server.client.get("/").text == "baz"
    got = _kv_cli(PROJECTS / "kv" / "src", store, "key", "get", "bar", "--binding", "FOO", "--text")
    assert (got.returncode, got.stdout, got.stderr) == (0, "baz\n", "")


def test_a_binding_that_is_not_emulated_is_named_and_the_rest_runs(data: Path) -> None:
    with project_server("kv", data / "kv-d1") as server:
        assert "env.DB   D1 database: not available locally" in server.stdout()
        failed = server.client.get("/d1")
        assert failed.status_code == 500
        assert "env.DB is a D1 database binding, which is not available locally" in failed.text
        assert server.client.get("/").status_code == 200
        (db,) = [b for b in server.status()["workers"][0]["bindings"] if b["name"] == "DB"]
        assert db == {"name": "DB", "type": "D1 database", "available": False, "note": "not available locally"}


# --- FastAPI through asgi ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fastapi_app(data: Path) -> Iterator[ProjectServer]:
    with project_server("fastapi", data / "fastapi") as server:
        yield server


def test_fastapi_path_and_query_parameters_and_json(fastapi_app: ProjectServer) -> None:
    got = fastapi_app.client.get("/items/42", params={"q": "tea"})
    assert (got.status_code, got.headers["content-type"], got.json()) == (
        200,
        "application/json",
        {"item_id": 42, "q": "tea"},
    )
    created = fastapi_app.client.post("/items", json={"name": "cup", "price": 2.5})
    assert created.json() == {"name": "cup", "price": 2.5, "taxed": 3.0}
    invalid = fastapi_app.client.post("/items", json={"name": "cup"})
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["body", "price"]
    assert fastapi_app.client.get("/items/not-a-number").status_code == 422
    missing = fastapi_app.client.get("/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})


def test_fastapi_sees_env_and_runs_its_lifespan_once(fastapi_app: ProjectServer) -> None:
    first = fastapi_app.client.get("/env").json()
    assert first == {"message": "My env var", "state": "set at startup", "starts": 1}
    assert fastapi_app.client.get("/env").json()["starts"] == 1


def test_fastapi_streams_a_response(fastapi_app: ProjectServer) -> None:
    with fastapi_app.client.stream("GET", "/stream") as response:
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers
        assert list(response.iter_lines()) == ["line 0", "line 1", "line 2"]


def test_an_exception_in_the_app_is_a_500_and_the_server_goes_on(fastapi_app: ProjectServer) -> None:
    failed = fastapi_app.client.get("/boom")
    assert (failed.status_code, failed.text) == (500, "Internal Server Error")
    assert fastapi_app.client.get("/items/1").status_code == 200


def test_background_tasks_run_after_the_response(fastapi_app: ProjectServer) -> None:
    assert fastapi_app.client.post("/later").json() == {"queued": True}
    eventually(lambda: fastapi_app.client.get("/log").json() == {"background": "done"}, what="the background task")


# --- Django through wsgi -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def django_app(data: Path) -> Iterator[ProjectServer]:
    with project_server("django", data / "django") as server:
        yield server


def test_django_answers_through_wsgi_off_the_event_loop(django_app: ProjectServer) -> None:
    root = django_app.client.get("/")
    assert (root.headers["content-type"], root.json()) == (
        "application/json",
        {"message": "Hello from Django", "site": "workerhost"},
    )
    echoed = django_app.client.post("/echo/ada?q=1", content=b"payload")
    assert echoed.json() == {"name": "ada", "q": "1", "method": "POST", "body": "payload", "thread": True}
    page = django_app.client.get("/page")
    assert (page.headers["content-type"], page.text) == ("text/html; charset=utf-8", "<h1>Django</h1>")
    assert django_app.client.get("/missing").status_code == 404


# --- static assets -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assets(data: Path) -> Iterator[ProjectServer]:
    with project_server("assets", data / "assets") as server:
        yield server


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/logo.svg", "image/svg+xml"),
        ("/favicon.ico", "image/vnd.microsoft.icon"),
        ("/data.json", "application/json"),
        ("/about", "text/html; charset=utf-8"),
        ("/docs/", "text/html; charset=utf-8"),
    ],
)
def test_assets_are_served_before_the_worker_with_cloudflares_types(
    assets: ProjectServer, path: str, content_type: str
) -> None:
    answer = assets.client.get(path)
    assert (answer.status_code, answer.headers["content-type"]) == (200, content_type)
    assert answer.headers["cache-control"] == "public, max-age=0, must-revalidate"
    assert answer.headers["etag"].startswith('"')


def test_html_handling_redirects_to_the_clean_url(assets: ProjectServer) -> None:
    for path, location in [
        ("/index.html", "/"),
        ("/about.html", "/about"),
        ("/docs", "/docs/"),
        ("/docs/index.html", "/docs/"),
    ]:
        moved = assets.client.get(path)
        assert (moved.status_code, moved.headers["location"]) == (307, location), path


def test_etag_and_if_none_match(assets: ProjectServer) -> None:
    first = assets.client.get("/style.css")
    again = assets.client.get("/style.css", headers={"if-none-match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    weak = assets.client.get("/style.css", headers={"if-none-match": f"W/{first.headers['etag']}"})
    assert weak.status_code == 304


def test_a_path_with_no_file_goes_to_the_worker_and_its_404_page(assets: ProjectServer) -> None:
    assert assets.client.get("/api/items").json() == {"from": "worker", "path": "/api/items"}
    missing = assets.client.get("/nothing/here")  # the worker passes it to env.ASSETS: the 404 page
    assert (missing.status_code, missing.headers["content-type"]) == (404, "text/html; charset=utf-8")
    assert "No such page" in missing.text
    via = assets.client.get("/via-binding")
    assert (via.text, via.headers["content-type"]) == ("body { color: #333; }\n", "text/css; charset=utf-8")


@pytest.mark.parametrize(
    "path",
    [
        "/../wrangler.toml",
        "/%2e%2e/wrangler.toml",
        "/%2E%2E%2Fwrangler.toml",
        "/docs/..%2f..%2fwrangler.toml",
        "/.%2e/src/worker.py",
    ],
)
def test_no_path_reaches_outside_the_assets_directory(assets: ProjectServer, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", assets.port, timeout=10)
    try:
        connection.request("GET", path)  # sent byte for byte: no client normalises the dots away
        answer = connection.getresponse()
        body = answer.read().decode("utf-8", "replace")
    finally:
        connection.close()
    assert "compatibility_date" not in body and "WorkerEntrypoint" not in body
    assert answer.status in (404, 307)


def test_new_and_changed_files_are_served_without_a_restart(assets: ProjectServer) -> None:
    fresh = PROJECTS / "assets" / "public" / "fresh.txt"
    try:
        fresh.write_text("one\n")
        assert assets.client.get("/fresh.txt").text == "one\n"
        first = assets.client.get("/fresh.txt").headers["etag"]
        fresh.write_text("two!\n")
        answer = assets.client.get("/fresh.txt")
        assert (answer.text, answer.headers["content-type"]) == ("two!\n", "text/plain; charset=utf-8")
        assert answer.headers["etag"] != first
    finally:
        fresh.unlink(missing_ok=True)


def test_single_page_application_mode_and_worker_first_patterns(data: Path) -> None:
    with project_server("assets", data / "assets-spa", {"WORKERHOST_ENV": "spa"}) as server:
        assert "assets-worker-spa" in server.stdout()
        navigation = server.client.get("/some/client/route", headers={"sec-fetch-mode": "navigate"})
        assert (navigation.status_code, navigation.headers["content-type"]) == (200, "text/html; charset=utf-8")
        assert "<h1>Home</h1>" in navigation.text
        assert server.client.get("/api/users").json() == {"from": "worker", "path": "/api/users"}
        assert server.client.get("/api/docs/intro", headers={"sec-fetch-mode": "navigate"}).text.count("Home") == 2
        assert server.client.get("/style.css").headers["content-type"] == "text/css; charset=utf-8"


def test_run_worker_first_sends_everything_to_the_worker(data: Path) -> None:
    with project_server("assets", data / "assets-first", {"WORKERHOST_ENV": "workerfirst"}) as server:
        assert server.client.get("/api/x").json() == {"from": "worker", "path": "/api/x"}
        index = server.client.get("/")  # reached through the worker's env.ASSETS.fetch(request)
        assert (index.status_code, index.headers["content-type"]) == (200, "text/html; charset=utf-8")
        missing = server.client.get("/missing")
        assert (missing.status_code, missing.content) == (404, b"")


# --- [env.staging] -----------------------------------------------------------------------------------


def test_env_staging_takes_its_own_vars_bindings_and_secrets(data: Path) -> None:
    store = data / "staging"
    with project_server("staging", store) as server:
        assert server.client.put("/", content="p").json() == {"stage": "production", "token": "prod-token", "k": "p"}
    with project_server("staging", store, {"WORKERHOST_ENV": "staging"}) as server:
        out = server.stdout()
        assert "app-staging  src/entry.py" in out
        staged = local_namespace("staging-preview")  # workerhost dev binds preview_id, as wrangler dev does
        assert f'env.DATA   KV namespace "staging-preview" ({staged.id})' in out
        assert server.client.get("/").json() == {"stage": "staging", "token": "staging-token", "k": None}
        assert server.status()["env"] == "staging"


# --- cron --------------------------------------------------------------------------------------------


def _next(after: datetime, hour: int, minute: int, wanted: object) -> datetime:
    day = after.replace(hour=0, minute=0, second=0, microsecond=0)
    while True:
        candidate = day.replace(hour=hour, minute=minute)
        if candidate > after and wanted(candidate):  # type: ignore[operator]
            return candidate
        day += timedelta(days=1)


def _last_weekday(day: datetime) -> bool:
    last = ((day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    weekdays = [d for d in range(1, last + 1) if day.replace(day=d).weekday() < 5]
    return day.day == weekdays[-1]


def _last_friday(day: datetime) -> bool:
    return day.weekday() == 4 and (day + timedelta(days=7)).month != day.month


def test_cron_weekdays_are_cloudflares_and_l_w_hash_work(data: Path) -> None:
    with project_server("cron", data / "cron") as server:
        now = datetime.now(UTC)
        schedule = {entry["cron"]: entry["next_run"] for entry in server.status()["workers"][0]["schedule"]}
        expected = {
            "0 17 * * 1": _next(now, 17, 0, lambda d: d.weekday() == 6),  # Sunday
            "59 23 LW * *": _next(now, 23, 59, _last_weekday),
            "0 10 * * 2#1": _next(now, 10, 0, lambda d: d.weekday() == 0 and d.day <= 7),
            "30 6 * * 6L": _next(now, 6, 30, _last_friday),
        }
        for cron, when in expected.items():
            assert schedule[cron] == when.isoformat(timespec="milliseconds"), cron
        first = expected["0 17 * * 1"].strftime("%Y-%m-%d %H:%M")
        assert f"crons     0 17 * * 1, 59 23 LW * *, 0 10 * * 2#1, 30 6 * * 6L  (next {first} UTC;" in server.stdout()
        assert server.client.get("/").text == "never"
        ran = server.client.get("/__scheduled", params={"cron": "59 23 LW * *", "time": "1700000000000"})
        assert ran.text == "Ran scheduled event"
        assert server.client.get("/").text == "59 23 LW * *@1700000000000"


# --- .dev.vars ---------------------------------------------------------------------------------------


def test_dev_vars_multi_line_quoted_values_and_module_level_env(data: Path) -> None:
    with project_server("devvars", data / "devvars") as server:
        assert server.client.get("/").json() == {
            "API_KEY": "sk-test-123",
            "PLAIN": "plain value",
            "PRIVATE_KEY": "-----BEGIN KEY-----\nline one\nline two\n-----END KEY-----",
            "SINGLE": "${API_KEY} stays as written",
            "ESCAPED": "tab\there",
            "same": True,
        }
        assert "sk-test-123" not in server.stdout() + server.stderr()
        assert json.dumps(server.status()).count("sk-test-123") == 0
