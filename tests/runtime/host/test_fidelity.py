"""Production-fidelity modes in the host: kv.yaml turns them on, handlers and crons meet them.

The app runs in-process on a ``ManualClock``; nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from bindings import ManualClock
from bindings.service import KVService
from runtime import create_app, load_config
from runtime.host.reload import QueueSource
from tests.support import app_client, dev_server, write_files

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0
TOO_MANY_OPS = "Too many API requests by single worker invocation."

WORKER = """
from runtime import Response


async def fetch(request, env, ctx):
    path, query = request.url.path, request.query_params
    kv = env.STRICT if path.startswith("/strict") else env.FREE
    if path.endswith("/ops"):
        count = int(query["n"])
        for _ in range(count):
            if "bulk" in query:
                await kv.get(["a", "b"])
            else:
                await kv.get("a")
        if "later" in query:
            ctx.wait_until(kv.put("later", "written"))
        return Response(f"{count} operations")
    if path.endswith("/count"):
        hits = int(await kv.get("hits") or 0) + 1
        await kv.put("hits", str(hits))
        return Response(str(hits))
    if path.endswith("/write-then-read"):
        await kv.put("greeting", query["value"])
        return Response(str(await kv.get("greeting")))
    if path.endswith("/read"):
        return Response(str(await kv.get(query["key"])))
    return Response("no such path", status=404)


async def scheduled(controller, env, ctx):
    for _ in range(1001):
        await env.STRICT.get("a")
"""


def _project(tmp_path: Path, fidelity: str) -> Path:
    kv_yaml = f"""
        {fidelity}
        kv_namespaces:
          - title: strict
            fidelity: {{limits: strict, rate_limit: true}}
          - title: free
        workers:
          - name: site
            script: worker.py
            kv_namespaces:
              - {{binding: STRICT, namespace: strict}}
              - {{binding: FREE, namespace: free}}
    """
    write_files(tmp_path, {"kv.yaml": kv_yaml, "worker.py": WORKER})
    return tmp_path / "kv.yaml"


def _app(path: Path, clock: ManualClock, source: QueueSource | None = None) -> Any:
    config = dataclasses.replace(load_config(path, environ={}), reload=False)
    return create_app(config, clock=clock, change_source=source, crons=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# --- limits: strict -------------------------------------------------------------------------------


async def test_an_invocation_may_make_a_thousand_operations_and_no_more(tmp_path: Path, clock: ManualClock) -> None:
    async with app_client(_app(_project(tmp_path, ""), clock)) as client:
        assert (await client.get("/strict/ops", params={"n": 1000})).text == "1000 operations"
        refused = await client.get("/strict/ops", params={"n": 1001})
        assert refused.status_code == 500 and f"KVLimitError: {TOO_MANY_OPS}" in refused.text
        # Each request is an invocation of its own, and a bulk get counts once.
        assert (await client.get("/strict/ops", params={"n": 1000, "bulk": "1"})).status_code == 200
        # A namespace without the mode is not counted.
        assert (await client.get("/free/ops", params={"n": 1500})).status_code == 200


async def test_wait_until_work_spends_its_invocations_budget(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(_project(tmp_path, ""), clock)
    async with app_client(app) as client:
        host = app.workerhost
        assert (await client.get("/strict/ops", params={"n": 999, "later": "1"})).status_code == 200
        await host.drain()
        assert await host.version.workers["site"].env.STRICT.get("later") == "written"  # the 1000th
        clock.advance(1)
        await host.version.workers["site"].env.STRICT.delete("later")
        assert (await client.get("/strict/ops", params={"n": 1000, "later": "1"})).status_code == 200
        await host.drain()
        assert await host.version.workers["site"].env.STRICT.get("later") is None  # the 1001st was refused
    assert "wait_until work raised" in caplog.text and TOO_MANY_OPS in caplog.text


async def test_a_scheduled_run_is_an_invocation_too(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with app_client(_app(_project(tmp_path, ""), clock)) as client:
        ran = await client.post("/__workerhost/scheduled", params={"worker": "site"})
    assert (ran.status_code, ran.json()["outcome"]) == (500, "exception")
    assert f"KVLimitError: {TOO_MANY_OPS}" in caplog.text


# --- rate_limit -----------------------------------------------------------------------------------


async def test_a_counter_incremented_on_every_request_hits_the_write_limit(tmp_path: Path, clock: ManualClock) -> None:
    async with app_client(_app(_project(tmp_path, ""), clock)) as client:
        assert (await client.get("/strict/count")).text == "1"
        refused = await client.get("/strict/count")
        assert refused.status_code == 500 and "KV PUT failed: 429 Too Many Requests" in refused.text
        clock.advance(1)
        assert (await client.get("/strict/count")).text == "2"
        assert [(await client.get("/free/count")).text for _ in range(3)] == ["1", "2", "3"]


async def test_the_write_windows_outlive_a_reload_that_keeps_the_settings(tmp_path: Path, clock: ManualClock) -> None:
    path = _project(tmp_path, "")
    app = _app(path, clock, QueueSource())
    async with app_client(app) as client:
        assert (await client.get("/strict/count")).status_code == 200
        assert await app.workerhost.reload({str(path)})
        assert (await client.get("/strict/count")).status_code == 500
        path.write_text(path.read_text().replace("rate_limit: true", "rate_limit: false"))
        assert await app.workerhost.reload({str(path)})
        assert (await client.get("/strict/count")).text == "2"


# --- consistency: eventual ------------------------------------------------------------------------


async def test_a_read_right_after_a_write_from_another_location_sees_the_old_value(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = _project(tmp_path, "fidelity: {consistency: eventual, writes: another_location}")
    async with app_client(_app(path, clock)) as client:
        assert (await client.get("/free/write-then-read", params={"value": "hello"})).text == "None"
        clock.advance(60)
        assert (await client.get("/free/read", params={"key": "greeting"})).text == "hello"


async def test_a_write_through_the_rest_api_reaches_handlers_after_the_cache_ttl(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = _project(tmp_path, "fidelity: {consistency: eventual}")
    app = _app(path, clock)
    async with app_client(app) as client:
        assert (await client.get("/free/read", params={"key": "flag"})).text == "None"
        namespace_id = app.workerhost.version.workers["site"].namespaces["FREE"].id
        url = f"/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces/{namespace_id}/values/flag"
        assert (await client.put(url, content=b"on")).status_code == 200
        assert (await client.get(url)).content == b"on"  # the REST API reads the store itself
        assert (await client.get("/free/read", params={"key": "flag"})).text == "None"  # the miss is cached
        clock.advance(60)
        assert (await client.get("/free/read", params={"key": "flag"})).text == "on"


# --- every mode off -------------------------------------------------------------------------------


async def test_with_every_mode_off_bindings_are_the_plain_service(tmp_path: Path, clock: ManualClock) -> None:
    write_files(
        tmp_path,
        {
            "kv.yaml": "kv_namespaces: [{title: a}]\nworkers:\n  - {name: w, script: worker.py, "
            "kv_namespaces: [{binding: FREE, namespace: a}]}\n",
            "worker.py": WORKER,
        },
    )
    app = _app(tmp_path / "kv.yaml", clock)
    async with app_client(app) as client:
        worker = app.workerhost.version.workers["w"]
        assert type(worker.env.FREE.service) is KVService
        assert worker.counts_operations is False
        assert app.workerhost.fidelity.active is False
        assert [(await client.get("/free/count")).text for _ in range(3)] == ["1", "2", "3"]


# --- a real server --------------------------------------------------------------------------------


def test_workerhost_dev_serves_the_modes_kv_yaml_asks_for(tmp_path: Path) -> None:
    path = _project(tmp_path, "fidelity: {consistency: eventual, writes: another_location, api_rate_limit: true}")
    with dev_server(path, tmp_path / "persist", args=("--no-reload",)) as server:
        banner = server.stdout()
        assert re.search(
            r'env\.STRICT\s+KV namespace "strict" \([0-9a-f]{32}\)  fidelity: rate_limit, consistency: eventual '
            r"\(writes: another_location, cache_ttl: 60\), limits: strict",
            banner,
        ), banner
        assert "REST API   rate limit: 1,200 requests per 5 minutes per user (fidelity.api_rate_limit)" in banner
        bindings = server.status()["workers"][0]["bindings"]
        assert [binding.get("fidelity") for binding in bindings[:2]] == [
            "rate_limit, consistency: eventual (writes: another_location, cache_ttl: 60), limits: strict",
            "consistency: eventual (writes: another_location, cache_ttl: 60)",
        ]
        refused = server.client.get("/strict/ops", params={"n": 1001})
        assert refused.status_code == 500 and TOO_MANY_OPS in refused.text
        assert server.client.get("/free/write-then-read", params={"value": "hello"}).text == "None"
