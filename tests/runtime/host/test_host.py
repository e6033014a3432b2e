"""The host in-process: every handler shape, env, errors, routing, wait_until, crons and reload."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest

from bindings import ManualClock, sqlite_location
from runtime import create_app, load_config
from runtime.host.reload import QueueSource
from tests.support import app_client, write_files

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z
SECRET = "s3cr3t-value-xyz"

FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: entry
            script: entry/worker.py
            routes: ["/entry", "/entry/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
            vars: {GREETING: hi, LIMIT: 3}
            triggers: {crons: ["0 * * * *"]}
          - name: module
            script: module/worker.py
            routes: ["/module/*", "example.test/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
          - name: legacy
            script: legacy.py
            routes: ["/legacy"]
    """,
    ".dev.vars": f"API_KEY={SECRET}\n",
    "entry/worker.py": """
        from urllib.parse import urlparse
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                path = urlparse(request.url).path
                if path == "/entry/env":
                    return Response.json({"names": sorted(self.env), "greeting": self.env["GREETING"],
                                          "limit": self.env.LIMIT, "secret_ok": self.env.API_KEY == "SECRET"})
                if path == "/entry/boom":
                    raise ValueError("bad key " + self.env.API_KEY)
                if path == "/entry/later":
                    self.ctx.waitUntil(self.env.KV.put("later", "done"))
                    return Response("queued")
                if path == "/entry/cron":
                    return Response(await self.env.KV.get("cron") or "never")
                body = await request.text()
                return Response.json({"url": request.url, "method": request.method, "body": body,
                                      "url_type": type(request.url).__name__})

            async def scheduled(self, controller, env, ctx):
                await env.KV.put("cron", f"{controller.cron}@{controller.scheduledTime}")
    """.replace("SECRET", SECRET),
    "entry/helpers.py": "",
    "module/worker.py": """
        from helpers import shout
        from runtime import Response

        async def fetch(request, env, ctx):
            if request.url.path == "/module/none":
                return None
            if request.url.path == "/module/dict":
                return {"a": 1}
            await env.KV.put("k", shout(request.url.path))
            return Response.json({"value": await env.KV.get("k"), "json": await request.json()
                                  if request.method == "POST" else None})
    """,
    "module/helpers.py": "def shout(text):\n    return text.upper()\n",
    "legacy.py": """
        from runtime import Response

        async def on_fetch(request, env):
            return Response("legacy " + request.method)
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_files(tmp_path, FILES)
    return tmp_path


def make_app(
    project: Path, clock: ManualClock | None = None, source: QueueSource | None = None, debug: bool = True
) -> object:
    config = dataclasses.replace(load_config(project / "kv.yaml", environ={}), reload=False)
    return create_app(config, clock=clock or ManualClock(START), change_source=source, debug=debug)


async def test_every_handler_shape_answers(project: Path) -> None:
    async with app_client(make_app(project)) as client:
        entry = (await client.post("/entry/x?q=1", content=b"hello")).json()
        assert entry == {"url": "http://testserver/entry/x?q=1", "method": "POST", "body": "hello", "url_type": "str"}
        module = await client.post("/module/a", json={"n": 1})
        assert module.json() == {"value": "/MODULE/A", "json": {"n": 1}}
        legacy = await client.get("/legacy")
        assert legacy.text == "legacy GET"


async def test_env_holds_bindings_vars_and_secrets(project: Path) -> None:
    async with app_client(make_app(project)) as client:
        body = (await client.get("/entry/env")).json()
    assert body == {"names": ["API_KEY", "GREETING", "KV", "LIMIT"], "greeting": "hi", "limit": 3, "secret_ok": True}


async def test_handler_exception_gives_a_traceback_page_without_secrets(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with app_client(make_app(project)) as client:
        page = await client.get("/entry/boom", headers={"accept": "text/html"})
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "ValueError: bad key [secret]" in page.text and "entry/worker.py" in page.text
        assert SECRET not in page.text
        assert (await client.get("/legacy")).status_code == 200  # still serving
    assert SECRET not in caplog.text and "bad key [secret]" in caplog.text


async def test_without_debug_a_handler_error_is_a_plain_500(project: Path) -> None:
    async with app_client(make_app(project, debug=False)) as client:
        page = await client.get("/entry/boom")
    assert (page.status_code, page.text) == (500, "Internal Server Error")


@pytest.mark.parametrize(
    ("path", "described"),
    [
        ("/module/none", "builtins.NoneType: None"),
        ("/module/dict", "builtins.dict: {'a': 1}"),
    ],
)
async def test_returning_a_non_response_is_a_500_naming_it(project: Path, path: str, described: str) -> None:
    async with app_client(make_app(project)) as client:
        page = await client.get(path)
    assert page.status_code == 500
    assert f'Worker "module" returned {described} instead of a Response.' in page.text


async def test_routes_by_host_and_lists_routes_on_404(project: Path) -> None:
    async with app_client(make_app(project)) as client:
        hosted = await client.get("/anything", headers={"host": "example.test"})
        assert hosted.json()["value"] == "/ANYTHING"
        missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.text == (
        "404 Not Found\n\nNo worker route matches GET /nowhere.\nRoutes:\n  /entry  ->  entry\n  /entry/*  ->  entry\n"
        "  /module/*  ->  module\n  example.test/*  ->  module\n  /legacy  ->  legacy\n"
    )


async def test_the_app_keeps_starlettes_host_method_for_host_routes(project: Path) -> None:
    # The host object once lived at ``app.host``, which overwrote Starlette's method of that name.
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, Router

    app = make_app(project)
    app.host("admin.test", Router([Route("/panel", lambda request: PlainTextResponse("admin"))]))
    async with app_client(app) as client:
        panel = await client.get("/panel", headers={"host": "admin.test"})
        worker = await client.get("/legacy", headers={"host": "admin.test"})
    assert (panel.status_code, panel.text) == (200, "admin")
    assert worker.status_code == 200  # worker routes still come first


async def test_wait_until_work_runs_after_the_response(project: Path) -> None:
    app = make_app(project)
    async with app_client(app) as client:
        assert (await client.get("/entry/later")).text == "queued"
        await app.workerhost.drain()
        kv = app.workerhost.version.workers["entry"].env.KV
        assert await kv.get("later") == "done"


async def test_scheduled_dev_routes_run_the_cron_handler(project: Path) -> None:
    async with app_client(make_app(project)) as client:
        ran = await client.post("/__workerhost/scheduled", params={"worker": "entry", "cron": "5 * * * *"})
        assert ran.json() == {"worker": "entry", "cron": "5 * * * *", "scheduled_time": START * 1000, "outcome": "ok"}
        assert (await client.get("/entry/cron")).text == f"5 * * * *@{START * 1000}"
        wrangler = await client.get("/__scheduled")  # one worker has a scheduled handler: no need to name it
        assert wrangler.text == "Ran scheduled event"
        unknown = await client.get("/__workerhost/scheduled", params={"worker": "nope"})
        assert unknown.status_code == 400 and "no worker is called" in unknown.json()["error"]


async def test_crons_fire_when_the_clock_passes_their_time(project: Path) -> None:
    clock = ManualClock(START)
    app = make_app(project, clock)
    async with app_client(app) as client:
        host = app.workerhost
        assert host.scheduler.tick(START, START + 60) == []  # 22:14 is not minute 0
        clock.advance(3600)
        runs = host.scheduler.tick(START, clock.now())
        await asyncio.gather(*runs)
        assert (await client.get("/entry/cron")).text == "0 * * * *@1700002800000.0"


async def test_status_route_shows_workers_and_hides_secret_values(project: Path) -> None:
    async with app_client(make_app(project)) as client:
        status = (await client.get("/__workerhost/status")).json()
    assert status["version"] == 1 and status["reload"]["error"] is None
    entry = status["workers"][0]
    assert (entry["name"], entry["shape"], entry["routes"]) == ("entry", "WorkerEntrypoint", ["/entry", "/entry/*"])
    assert [(b["name"], b["type"]) for b in entry["bindings"]] == [
        ("KV", "kv_namespace"),
        ("GREETING", "var"),
        ("LIMIT", "var"),
        ("API_KEY", "secret"),
    ]
    assert SECRET not in str(status)


async def get_text(client: httpx.AsyncClient, path: str) -> str:
    return (await client.get(path)).text


async def test_reload_swaps_code_and_keeps_the_last_good_version(project: Path) -> None:
    source = QueueSource()
    app = make_app(project, source=source)
    host = app.workerhost
    legacy = project / "legacy.py"
    async with app_client(app) as client:
        await client.post("/module/x", json=None)
        legacy.write_text(FILES["legacy.py"].replace("legacy ", "new ").replace("\n        ", "\n").strip() + "\n")
        assert await host.reload({str(legacy)})
        assert await get_text(client, "/legacy") == "new GET"
        legacy.write_text("async def on_fetch(request, env):\n    return (\n")
        assert not await host.reload({str(legacy)})
        assert await get_text(client, "/legacy") == "new GET"
        status = (await client.get("/__workerhost/status")).json()
        assert status["version"] == 2 and "legacy.py has a syntax error" in status["reload"]["error"]
        legacy.write_text("from runtime import Response\nasync def on_fetch(r, e):\n    return Response('fixed')\n")
        assert await host.reload({str(legacy)})
        assert await get_text(client, "/legacy") == "fixed"
        assert (await client.get("/__workerhost/status")).json()["reload"]["error"] is None
        # KV data survives reloads.
        assert await host.version.workers["module"].env.KV.get("k") == "/MODULE/X"


async def test_reload_picks_up_config_changes_and_rejects_bad_ones(project: Path) -> None:
    app = make_app(project, source=QueueSource())
    host = app.workerhost
    config = project / "kv.yaml"
    async with app_client(app) as client:
        config.write_text(config.read_text().replace("GREETING: hi", "GREETING: hello"))
        assert await host.reload({str(config)})
        assert (await client.get("/entry/env")).json()["greeting"] == "hello"
        config.write_text(config.read_text().replace('routes: ["/legacy"]', 'routs: ["/legacy"]'))
        assert not await host.reload({str(config)})
        assert host.reload_failure.message.startswith(f"{project / 'kv.yaml'}:16: workers[2].routs is not a known key")
        assert (await client.get("/legacy")).status_code == 200


async def test_a_reload_keeps_the_store_where_it_was_opened(project: Path) -> None:
    app = make_app(project, source=QueueSource())
    host = app.workerhost
    config = project / "kv.yaml"
    async with app_client(app) as client:
        store, before = host.store, host.config
        assert before.storage == sqlite_location(project / ".workerhost")
        await client.post("/module/kept", json={})
        config.write_text("persist_to: elsewhere\n" + config.read_text())
        assert await host.reload({str(config)})
        assert (host.config.persist_to, host.config.storage) == (before.persist_to, before.storage)
        assert host.store is store
        assert (await client.post("/module/kept", json={})).json()["value"] == "/MODULE/KEPT"
    assert not (project / "elsewhere").exists()


async def test_in_flight_requests_finish_on_the_old_code(project: Path) -> None:
    (project / "legacy.py").write_text(
        "import asyncio\nfrom runtime import Response\n"
        "async def on_fetch(request, env):\n    await asyncio.sleep(0.2)\n    return Response('old')\n"
    )
    app = make_app(project, source=QueueSource())
    host = app.workerhost
    async with app_client(app) as client:
        slow = asyncio.ensure_future(client.get("/legacy"))
        while host.version.in_flight == 0:
            await asyncio.sleep(0.005)
        old = host.version
        (project / "legacy.py").write_text(
            "from runtime import Response\nasync def on_fetch(r, e):\n    return Response('new')\n"
        )
        assert await host.reload()
        assert await get_text(client, "/legacy") == "new"
        assert (await slow).text == "old"
        assert old.in_flight == 0


async def test_the_change_source_drives_reloads(project: Path) -> None:
    source = QueueSource()
    app = dataclasses.replace(load_config(project / "kv.yaml", environ={}), reload=True)
    app = create_app(app, clock=ManualClock(START), change_source=source)
    async with app_client(app) as client:
        (project / "legacy.py").write_text(
            "from runtime import Response\nasync def on_fetch(r, e):\n    return Response('via source')\n"
        )
        source.announce(project / "legacy.py")
        for _ in range(500):
            if await get_text(client, "/legacy") == "via source":
                break
            await asyncio.sleep(0.01)
        assert await get_text(client, "/legacy") == "via source"


async def test_a_failed_reload_never_shows_a_secret_in_the_log_or_the_status_route(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The error quotes the script's traceback, which here holds the secret's value.
    app = make_app(project, source=QueueSource())
    host = app.workerhost
    async with app_client(app) as client:
        script = project / "legacy.py"
        script.write_text(f"raise ValueError('leaked {SECRET}')\n")
        assert not await host.reload({str(script)})
        status = (await client.get("/__workerhost/status")).json()
    assert "leaked [secret]" in status["reload"]["error"]
    assert SECRET not in status["reload"]["error"] and SECRET not in caplog.text
    assert "leaked [secret]" in caplog.text


@pytest.mark.sqlite_only  # a SQLite option
async def test_an_unsynced_store_is_said_not_durable_and_refused_when_durability_is_required(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from runtime.errors import WorkerhostError

    config = dataclasses.replace(
        load_config(project / "kv.yaml", environ={}),
        reload=False,
        storage=sqlite_location(project / ".data", sync=False),
    )
    async with app_client(create_app(config, clock=ManualClock(START))) as client:
        assert (await client.get("/legacy")).text == "legacy GET"
    assert "sync=off: commits are not synced to disk" in caplog.text
    caplog.clear()
    async with app_client(create_app(config, clock=ManualClock(START), throwaway=True)) as client:
        assert (await client.get("/legacy")).text == "legacy GET"
    assert "sync=off" not in caplog.text  # the pytest plugin's stores are thrown away: nothing to warn about
    strict = dataclasses.replace(config, require_durable=True)
    with pytest.raises(WorkerhostError, match="can lose acknowledged writes, and --require-durable"):
        async with app_client(create_app(strict, clock=ManualClock(START))):
            pass
