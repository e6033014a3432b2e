"""End to end: ``python -m runtime dev`` as a subprocess on a free loopback port, over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bindings import open_store
from tests.redis_fixtures import storage_under_test, store_location
from tests.support import ROOT, DevServer, dev_server, eventually, write_files

SECRET = "s3cr3t-value-xyz"

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: entry
            script: entry/worker.py
            routes: ["/entry", "/entry/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
            vars: {GREETING: hi}
            triggers: {crons: ["0 0 * * *"]}
          - name: module
            script: module/worker.py
            routes: ["/module/*", "example.test/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
          - name: legacy
            script: legacy/worker.py
            routes: ["/legacy"]
    """,
    ".dev.vars": f"API_KEY={SECRET}\n",
    "entry/worker.py": """
        import asyncio
        from urllib.parse import parse_qs, urlparse

        from workers import Response, WorkerEntrypoint


        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                url = urlparse(request.url)
                if url.path == "/entry/env":
                    return Response.json({"names": sorted(self.env), "greeting": self.env.GREETING,
                                          "has_secret": len(self.env.API_KEY) > 0})
                if url.path == "/entry/boom":
                    raise RuntimeError("cannot use " + self.env.API_KEY)
                if url.path == "/entry/later":
                    delay = float(parse_qs(url.query).get("delay", ["0"])[0])
                    self.ctx.waitUntil(self.later(delay))
                    return Response("queued")
                if url.path == "/entry/slow":
                    await asyncio.sleep(float(parse_qs(url.query)["delay"][0]))
                    await self.env.KV.put("slow", "done")
                    return Response("slow done")
                if url.path.startswith("/entry/kv/"):
                    return Response(await self.env.KV.get(url.path.removeprefix("/entry/kv/")) or "")
                return Response.json({"url": request.url, "method": request.method})

            async def later(self, delay):
                await asyncio.sleep(delay)
                await self.env.KV.put("later", "done")

            async def scheduled(self, controller, env, ctx):
                await env.KV.put("cron", controller.cron)
    """,
    "module/worker.py": """
        from helpers import shout

        from runtime import Response


        async def fetch(request, env, ctx):
            if request.url.path == "/module/dict":
                return {"not": "a response"}
            return Response.json({"shout": shout(request.url.path), "host": request.headers.get("host")})
    """,
    "module/helpers.py": """
        def shout(text):
            return text.upper()
    """,
    "legacy/worker.py": """
        from runtime import Response


        async def on_fetch(request, env):
            return Response("legacy " + request.method)
    """,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    project = write_files(tmp_path_factory.mktemp("e2e"), PROJECT)
    with dev_server(project / "kv.yaml", project / "data") as running:
        yield running


def test_cloudflare_style_worker_runs_unchanged(server: DevServer) -> None:
    body = server.client.get("/entry/x?y=1").json()
    assert body == {"url": f"{server.url}/entry/x?y=1", "method": "GET"}


def test_module_style_worker_imports_its_sibling_module(server: DevServer) -> None:
    assert server.client.get("/module/abc").json()["shout"] == "/MODULE/ABC"


def test_legacy_on_fetch_worker(server: DevServer) -> None:
    assert server.client.post("/legacy").text == "legacy POST"


def test_env_carries_bindings_vars_and_secrets(server: DevServer) -> None:
    body = server.client.get("/entry/env").json()
    assert body == {"names": ["API_KEY", "GREETING", "KV"], "greeting": "hi", "has_secret": True}


def test_routing_by_host_and_404_listing_routes(server: DevServer) -> None:
    hosted = server.client.get("/whatever", headers={"host": "example.test"})
    assert hosted.json() == {"shout": "/WHATEVER", "host": "example.test"}
    missing = server.client.get("/nowhere")
    assert missing.status_code == 404
    assert "No worker route matches GET /nowhere." in missing.text and "/legacy  ->  legacy" in missing.text


def test_handler_exception_shows_traceback_hides_secret_and_server_keeps_serving(server: DevServer) -> None:
    page = server.client.get("/entry/boom", headers={"accept": "text/html"})
    assert page.status_code == 500
    assert "RuntimeError: cannot use [secret]" in page.text and "entry/worker.py" in page.text
    assert SECRET not in page.text
    assert server.client.get("/legacy").status_code == 200
    eventually(lambda: "RuntimeError: cannot use [secret]" in server.stderr(), what="the error in the log")
    assert SECRET not in server.stderr() and SECRET not in server.stdout()


def test_non_response_return_is_a_500_that_says_what_came_back(server: DevServer) -> None:
    page = server.client.get("/module/dict")
    assert page.status_code == 500
    assert "returned builtins.dict: {'not': 'a response'} instead of a Response" in page.text


def test_wait_until_work_finishes_after_the_response(server: DevServer) -> None:
    assert server.client.get("/entry/later", params={"delay": "0.1"}).text == "queued"
    eventually(lambda: server.client.get("/entry/kv/later").text == "done", what="the wait_until write")


def test_scheduled_handler_runs_from_the_dev_routes(server: DevServer) -> None:
    ran = server.client.get("/__workerhost/scheduled", params={"worker": "entry", "cron": "1 2 3 4 5"})
    assert ran.status_code == 200 and ran.json()["outcome"] == "ok"
    assert server.client.get("/entry/kv/cron").text == "1 2 3 4 5"
    assert server.client.get("/__scheduled", params={"cron": "0 0 * * *"}).text == "Ran scheduled event"
    assert server.client.get("/entry/kv/cron").text == "0 0 * * *"


def test_each_request_is_logged_on_one_line(server: DevServer) -> None:
    server.client.get("/legacy?token=abc")
    line = eventually(lambda: re.search(r"^GET /legacy 200 \d+\.\dms$", server.stderr(), re.M), what="a log line")
    assert "token" not in line.group(0)


def test_rest_api_and_handlers_share_one_store(server: DevServer) -> None:
    from cloudflare import Cloudflare, NotFoundError

    from runtime.config import DEFAULT_ACCOUNT_ID

    with Cloudflare(api_token="unused", base_url=f"{server.url}/client/v4", max_retries=0) as cf:
        namespace = next(ns for ns in cf.kv.namespaces.list(account_id=DEFAULT_ACCOUNT_ID) if ns.title == "data")
        cf.kv.namespaces.values.update(
            "from rest/é", account_id=DEFAULT_ACCOUNT_ID, namespace_id=namespace.id, value=b"written over REST"
        )
        assert server.client.get("/entry/kv/from rest/é").text == "written over REST"
        server.client.get("/entry/later")  # the handler writes "later" = "done" after responding

        def read_later() -> bytes:
            try:
                where = {"account_id": DEFAULT_ACCOUNT_ID, "namespace_id": namespace.id}
                return cf.kv.namespaces.values.get("later", **where).read()
            except NotFoundError:
                return b""  # not written yet

        assert eventually(lambda: read_later() == b"done", what="the handler's write, read over REST")
    # The request log is flushed a few milliseconds after the request (accesslog.FLUSH_DELAY).
    eventually(lambda: "GET /client/v4/accounts/" in server.stderr(), what="the REST request in the log")


def test_banner_lists_routes_bindings_and_data_dir(server: DevServer) -> None:
    banner = server.stdout()
    assert "  entry  entry/worker.py  (WorkerEntrypoint)" in banner
    assert "    routes    /entry, /entry/*" in banner
    assert re.search(r'env\.KV\s+KV namespace "data" \([0-9a-f]{32}\)', banner)
    assert re.search(r'env\.GREETING\s+var "hi"', banner)
    assert re.search(r"env\.API_KEY\s+secret \(value hidden\)", banner)
    assert "    crons     0 0 * * *" in banner
    if storage_under_test() == "sqlite":
        assert f"KV data    {server.persist_to / 'kv'}  (1 namespace)" in banner
    else:  # the module's server took the prefix of the test that started it
        assert re.search(r"KV data    redis://127\.0\.0\.1:\d+/0\?prefix=test-[0-9a-f]+  \(1 namespace\)", banner)
    assert f"Dashboard  {server.url}/__workerhost/\n" in banner  # the page's address (README "Dashboard")
    assert f"Ready on {server.url}" in banner


RELOAD_PROJECT = {
    "kv.yaml": """
        workers:
          - name: app
            script: app/worker.py
    """,
    "app/worker.py": """
        from helper import suffix
        from runtime import Response

        async def fetch(request, env, ctx):
            return Response("one" + suffix())
    """,
    "app/helper.py": """
        def suffix():
            return "!"
    """,
}


def test_real_filesystem_reload(tmp_path: Path) -> None:
    project = write_files(tmp_path, RELOAD_PROJECT)
    script, helper = project / "app" / "worker.py", project / "app" / "helper.py"
    with dev_server(project / "kv.yaml", project / "data") as server:
        assert server.client.get("/").text == "one!"
        script.write_text(script.read_text().replace('"one"', '"two"'))
        eventually(lambda: server.client.get("/").text == "two!", what="the edited script to serve")
        helper.write_text(helper.read_text().replace('"!"', '"?"'))
        eventually(lambda: server.client.get("/").text == "two?", what="the edited helper to serve")
        good = script.read_text()
        script.write_text(good.replace("async def fetch(request, env, ctx):", "async def fetch(request, env, ctx:"))
        eventually(lambda: server.status()["reload"]["error"], what="the syntax error at the status route")
        assert "app/worker.py has a syntax error" in server.status()["reload"]["error"]
        assert server.client.get("/").text == "two?"  # the last good version still serves
        script.write_text(good.replace('"two"', '"three"'))
        eventually(lambda: server.client.get("/").text == "three?", what="the fixed script to serve")
        assert server.status()["reload"]["error"] is None
        (project / "kv.yaml").write_text("workers: [{name: app, script: app/worker.py, rootes: []}]\n")
        eventually(lambda: server.status()["reload"]["error"], what="the config error at the status route")
        assert "rootes is not a known key" in server.status()["reload"]["error"]
        assert server.client.get("/").text == "three?"
    assert "reload failed; still serving version" in server.stderr()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_shutdown_drains_requests_and_wait_until_work_then_closes_the_store(tmp_path: Path, sig: int) -> None:
    project = write_files(tmp_path, PROJECT)
    server = DevServer(project / "kv.yaml", project / "data").start()
    with ThreadPoolExecutor(1) as pool:
        try:
            assert server.client.get("/entry/later", params={"delay": "0.5"}).text == "queued"
            slow = pool.submit(httpx.get, f"{server.url}/entry/slow", params={"delay": "0.5"}, timeout=30)
            eventually(lambda: server.status()["in_flight"] == 1, what="the slow request to be in flight")
            assert server.status()["pending_wait_until"] == 1
        finally:
            assert server.stop(sig) == 0
        response = slow.result()
    assert (response.status_code, response.text) == (200, "slow done")  # the in-flight request finished
    assert asyncio.run(read_key(project / "data", "data", "later")) == "done"  # so did the wait_until work
    assert asyncio.run(read_key(project / "data", "data", "slow")) == "done"
    if storage_under_test() != "sqlite":
        return
    # Closed cleanly: SQLite removes a write-ahead log when the last connection to its file closes.
    kv = project / "data" / "kv"
    databases = sorted(path for path in kv.iterdir() if not path.name.startswith("changes."))  # not the feed's
    assert [path.suffix for path in databases] == [".sqlite3", ".sqlite3"]
    for path in databases:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert "[error]" not in server.stderr() and "[warning]" not in server.stderr()


async def read_key(persist_to: Path, title: str, key: str) -> str | None:
    from bindings import KVNamespace

    store = open_store(store_location(persist_to))
    try:
        info = await store.find_namespace(title)
        assert info is not None
        return await KVNamespace(await store.namespace(info.id)).get(key)  # type: ignore[no-any-return]
    finally:
        await store.close()


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "runtime", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_bad_config_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    write_files(tmp_path, {"kv.yaml": "workers:\n  - name: a\n    script: nope.py\n"})
    result = run_cli("dev", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        f'workerhost: error: kv.yaml:3: workers[0].script "nope.py" does not exist (looked for {tmp_path}/nope.py); '
        "expected the path of the handler script, relative to kv.yaml\n"
    )


def test_broken_script_at_start_exits_non_zero_with_the_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"kv.yaml": "workers: [{name: a, script: w.py}]\n", "w.py": "def fetch(:\n"})
    result = run_cli("dev", "--port", "0", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("workerhost: error: w.py has a syntax error:")


def test_refuses_a_public_address_without_api_tokens(tmp_path: Path) -> None:
    write_files(tmp_path, {"kv.yaml": ""})
    result = run_cli("dev", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("workerhost: error: refusing to listen on 0.0.0.0: it is not a loopback address")
