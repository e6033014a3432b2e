"""The pytest plugin, tested the way users meet it: a project of their own, run by pytest (``pytester``)."""

from __future__ import annotations

import os
import sys
import tomllib

import pytest

from runtime.config import schema as config_schema
from runtime.testing import harness
from tests.support import ROOT

# Imported here so that pytester's in-process runs, which forget the modules a run imported, never
# re-import PyYAML (its C loader does not survive being imported twice) or the host.
PRELOADED = (config_schema, harness)

PLUGIN = ("-p", "no:workerhost", "-p", "runtime.testing")  # as the repo loads it (see pyproject addopts)
# In-process runs share this interpreter, where `runtime` is already imported. Once workerhost is
# pip-installed (as in CI) pytest wants to assertion-rewrite the plugin's package and warns that it
# cannot; the users' strict ini turns that warning into an error. A user's own pytest process starts
# fresh and never sees it, so only the nested runs silence it.
INPROCESS = (*PLUGIN, "-W", "ignore::pytest.PytestAssertRewriteWarning")

KV_YAML = """
kv_namespaces:
  - title: pages
  - title: log
workers:
  - name: site
    script: site.py
    routes: ["/*"]
    kv_namespaces:
      - {binding: PAGES, namespace: pages}
      - {binding: LOG, namespace: log}
    vars: {GREETING: hi}
    triggers:
      crons: ["0 * * * *"]
"""

SITE = """
from runtime import Response


async def fetch(request, env, ctx):
    name = request.url.path.strip("/") or "home"
    if request.method == "PUT":
        ttl = request.query_params.get("ttl")
        await env.PAGES.put(name, await request.body(), expiration_ttl=int(ttl) if ttl else None)
        ctx.wait_until(env.LOG.put("last-write", name))
        return Response("stored", status=201)
    body = await env.PAGES.get(name)
    if body is None:
        return Response(f"{env.GREETING}, no page {name}", status=404)
    return Response(body)


async def scheduled(controller, env, ctx):
    if controller.cron == "boom":
        raise ValueError("the cron handler failed")
    await env.LOG.put("cron", f"{controller.cron} at {controller.scheduled_time:.0f}")
"""

SYNC_TESTS = """
import pytest


def test_pages_round_trip(workerhost_client):
    assert workerhost_client.put("/about", content=b"about us").status_code == 201
    assert workerhost_client.get("/about").text == "about us"
    assert workerhost_client.get("/nope").text == "hi, no page nope"


def test_bindings_by_name_and_env(workerhost):
    workerhost.kv("PAGES").put("direct", "written by the test")
    assert workerhost.client.get("/direct").text == "written by the test"
    assert workerhost.env("site").GREETING == "hi"
    assert workerhost.env().GREETING == "hi"
    assert workerhost.run(workerhost.env().PAGES.get("direct")) == "written by the test"


def test_wait_until_work_is_awaited(workerhost):
    workerhost.client.put("/later", content=b"x")
    workerhost.wait_until()
    assert workerhost.kv("LOG").get("last-write") == "later"


def test_the_clock_expires_keys_without_sleeping(workerhost):
    workerhost.client.put("/brief", content=b"x", params={"ttl": "60"})
    workerhost.advance(59)
    assert workerhost.client.get("/brief").status_code == 200
    workerhost.advance(1)
    assert workerhost.client.get("/brief").status_code == 404


def test_scheduled_handlers_fire_on_demand(workerhost, workerhost_clock):
    workerhost.scheduled()
    assert workerhost.kv("LOG").get("cron") == f"0 * * * * at {workerhost_clock.now() * 1000:.0f}"
    workerhost.scheduled("site", cron="*/5 * * * *", scheduled_time=1000)
    assert workerhost.kv("LOG").get("cron") == "*/5 * * * * at 1000000"
    with pytest.raises(ValueError, match="the cron handler failed"):
        workerhost.scheduled(cron="boom")


def test_names_that_match_nothing_say_what_there_is(workerhost):
    with pytest.raises(LookupError, match='no worker binds a KV namespace as "NOPE"; bindings: LOG, PAGES'):
        workerhost.kv("NOPE")
    with pytest.raises(LookupError, match='no worker is called "nope"; workers: site'):
        workerhost.env("nope")


def test_reset_empties_storage_mid_test(workerhost):
    workerhost.kv("PAGES").put("a", "1")
    account = workerhost.config.account_id
    created = workerhost.client.post(f"/client/v4/accounts/{account}/storage/kv/namespaces", json={"title": "extra"})
    assert created.status_code == 200
    workerhost.reset()
    assert workerhost.kv("PAGES").get("a") is None
    titles = [ns.title for ns in workerhost.run(workerhost.store.list_namespaces())]
    assert titles == ["log", "pages"]
    workerhost.kv("PAGES").put("a", "2")
    assert workerhost.client.get("/a").text == "2"
"""

ASYNC_TESTS = """
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_the_async_harness(workerhost_async, workerhost_async_client):
    assert (await workerhost_async_client.put("/p", content=b"body")).status_code == 201
    await workerhost_async.wait_until()
    assert await workerhost_async.kv("LOG").get("last-write") == "p"
    await workerhost_async.kv("PAGES").put("k", "v", expiration_ttl=60)
    workerhost_async.advance(60)
    assert await workerhost_async.kv("PAGES").get("k") is None
    await workerhost_async.scheduled(cron="x")
    assert (await workerhost_async.kv("LOG").get("cron")).startswith("x at ")
    await workerhost_async.reset()
    assert (await workerhost_async.kv("LOG").list()).keys == []
"""

ISOLATION_TESTS = """
import os

import pytest


@pytest.mark.parametrize("round", range(12))
def test_nothing_leaks_from_other_tests(workerhost, round):
    assert workerhost.kv("PAGES").get("shared") is None
    assert workerhost.client.get("/shared").status_code == 404
    workerhost.client.put("/shared", content=str(round).encode())
    workerhost.kv("LOG").put("worker", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    assert workerhost.client.get("/shared").text == str(round)
"""

STRICT_INI = """
[pytest]
filterwarnings = error
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: kv.yaml, a handler script and a strict pytest.ini (warnings are errors)."""
    pytester.makefile(".yaml", kv=KV_YAML)
    pytester.makepyfile(site=SITE)
    pytester.makeini(STRICT_INI)
    return pytester


def test_a_users_tests_get_the_host_a_client_bindings_the_clock_and_crons(project: pytest.Pytester) -> None:
    project.makepyfile(test_site=SYNC_TESTS)
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(passed=7)


def test_async_tests_get_the_same_on_their_own_event_loop(project: pytest.Pytester) -> None:
    project.makepyfile(test_async=ASYNC_TESTS)
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(passed=1)


def test_every_test_gets_fresh_storage(project: pytest.Pytester) -> None:
    project.makepyfile(test_isolation=ISOLATION_TESTS)
    project.runpytest(*INPROCESS).assert_outcomes(passed=12)


def test_every_test_gets_fresh_storage_under_xdist(project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    project.makepyfile(test_isolation=ISOLATION_TESTS)
    result = project.runpytest_subprocess(*PLUGIN, "-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*2 workers*"])


@pytest.mark.sqlite_only  # a shared store has its own test (test_redis.py)
def test_the_store_goes_with_the_tests_own_data_directory(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_store="""
        from bindings import sqlite_location

        def test_it(workerhost_config):
            assert workerhost_config.storage == sqlite_location(workerhost_config.persist_to, sync=False)
            assert workerhost_config.persist_to.name.startswith("workerhost")
        """
    )
    project.runpytest(*INPROCESS).assert_outcomes(passed=1)


def test_a_time_past_9999_is_refused_and_nothing_runs_at_it(project: pytest.Pytester) -> None:
    # An infinite scheduled_time ran the handler with scheduledTime inf; an infinite clock broke every put.
    project.makepyfile(
        test_times="""
        import math
        import pytest

        @pytest.mark.parametrize("when", [math.inf, math.nan, 1e300, -1.0])
        def test_scheduled_time(workerhost, when):
            with pytest.raises(ValueError, match="^a scheduled time must be from 0 to 253402300799.999 seconds"):
                workerhost.scheduled(scheduled_time=when)
            assert workerhost.kv("LOG").get("cron") is None

        @pytest.mark.parametrize("seconds", [math.inf, math.nan, 1e300])
        def test_advance(workerhost, workerhost_clock, seconds):
            before = workerhost_clock.now()
            with pytest.raises(ValueError, match="^a clock"):
                workerhost.advance(seconds)
            assert workerhost_clock.now() == before
            workerhost.kv("LOG").put("still", "writable", expiration_ttl=60)
        """
    )
    project.runpytest(*INPROCESS).assert_outcomes(passed=7)


def test_a_bad_kv_yaml_fails_each_test_with_one_clear_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", kv="workerz: []\n")
    pytester.makepyfile(test_site="def test_it(workerhost):\n    pass\n")
    result = pytester.runpytest(*INPROCESS)
    result.assert_outcomes(errors=1)
    path = pytester.path / "kv.yaml"
    result.stdout.fnmatch_lines([f"*workerhost: {path}:1: workerz is not a known key; expected one of*"])
    result.stdout.no_fnmatch_line("*runtime/testing/*")  # no traceback through the plugin


def test_a_missing_kv_yaml_says_where_it_looked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_site="def test_it(workerhost_client):\n    pass\n")
    result = pytester.runpytest(*INPROCESS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*workerhost: {pytester.path / 'kv.yaml'}: not found*"])


def test_a_broken_handler_fails_setup_with_its_load_error(project: pytest.Pytester) -> None:
    project.makepyfile(site="def fetch(request, env, ctx):\n    pass\n")
    project.makepyfile(test_site="def test_it(workerhost):\n    pass\n")
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*workerhost: site.py*async*"])


def test_kv_yaml_can_be_named_by_option_or_ini(project: pytest.Pytester) -> None:
    (project.path / "conf").mkdir()
    (project.path / "kv.yaml").rename(project.path / "conf" / "app.yaml")
    (project.path / "site.py").rename(project.path / "conf" / "site.py")
    project.makepyfile(
        test_site="def test_it(workerhost_client):\n    assert workerhost_client.get('/x').status_code == 404\n"
    )
    project.runpytest(*INPROCESS, "--workerhost-config", "conf/app.yaml").assert_outcomes(passed=1)
    project.makeini(STRICT_INI + "workerhost_config = conf/app.yaml\n")
    project.runpytest(*INPROCESS).assert_outcomes(passed=1)


def test_one_test_cannot_use_both_harnesses(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_both="""
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"

        @pytest.mark.anyio
        async def test_both(workerhost, workerhost_async):
            pass
        """
    )
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*workerhost: a test can use workerhost or workerhost_async, not both*"])


def test_the_plugin_costs_nothing_in_a_project_that_does_not_use_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_nothing_heavy_was_imported():
            loaded = {name.split(".")[0] for name in sys.modules} | set(sys.modules)
            assert not loaded & {"starlette", "bindings", "runtime.testing.harness", "runtime.host", "sqlite3", "yaml"}
        """
    )
    pytester.runpytest_subprocess(*PLUGIN).assert_outcomes(passed=1)


def test_the_entry_point_loads_the_plugin_and_the_repo_never_loads_it_twice(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert entry_points == {"workerhost": "runtime.testing"}
    # Installed, the distribution's metadata carries the entry point; a dist-info folder on the path is the same.
    dist_info = pytester.mkdir("site") / "workerhost-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: workerhost\nVersion: 0.1.0\n")
    (dist_info / "entry_points.txt").write_text("[pytest11]\nworkerhost = runtime.testing\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(dist_info.parent), str(ROOT)]))
    installed = pytester.run(sys.executable, "-m", "pytest", "--help")
    installed.stdout.fnmatch_lines(["*--workerhost-config=FILE*"])
    # The repo's own settings (pyproject addopts) with the entry point active: loaded once, tests run.
    repo = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(ROOT / "tests" / "test_public_api.py"),
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
    )
    assert repo.ret == 0, repo.stdout.str() + repo.stderr.str()
