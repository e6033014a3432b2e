"""The test loop a user gets: handler failures raised as themselves, per-test vars and secrets, one
clock for KV and handler code, outbound fetch answered by the test, and clear messages for fixtures
that cannot go together. Each runs a user's project with pytester, in-process, as test_testing.py does."""

from __future__ import annotations

import pytest

from .test_testing import INPROCESS, STRICT_INI

KV_YAML = """
kv_namespaces:
  - title: pages
workers:
  - name: app
    script: app.py
    routes: ["/*"]
    kv_namespaces:
      - {binding: PAGES, namespace: pages}
    vars: {GREETING: hi, MODE: live}
"""

OTHER_YAML = """
kv_namespaces:
  - title: other
workers:
  - name: other
    script: ../app.py
    routes: ["/*"]
    kv_namespaces:
      - {binding: PAGES, namespace: other}
    vars: {GREETING: from the other config, MODE: other}
"""

APP = """
import time
from datetime import datetime, timezone

from runtime import Response
from workers import fetch as outbound

VISITS = []


async def fetch(request, env, ctx):
    path = request.url.path
    if path == "/missing":
        return Response({"a": 1}["missing key"])
    if path == "/garbage":
        return 42
    if path == "/later-fails":
        ctx.wait_until(fail_later())
        return Response("accepted", status=202)
    if path == "/env":
        return Response.json({"greeting": env.GREETING, "mode": env.MODE, "key": getattr(env, "API_KEY", None)})
    if path == "/visits":
        VISITS.append(path)  # module-level state
        return Response.json(len(VISITS))
    if path == "/now":
        return Response.json({"time": time.time(), "iso": datetime.now(timezone.utc).isoformat()})
    if path == "/weather":
        answer = await outbound("https://api.weather.example/today?city=" + request.query_params["city"])
        return Response.json({"upstream": answer.status, "forecast": await answer.json()})
    if request.method == "PUT":
        ttl = request.query_params.get("ttl")
        await env.PAGES.put(path, await request.body(), expiration_ttl=int(ttl) if ttl else None)
        return Response("stored", status=201)
    body = await env.PAGES.get(path)
    return Response(body, status=200) if body is not None else Response("none", status=404)


async def fail_later():
    raise RuntimeError("the wait_until work failed")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".yaml", kv=KV_YAML)
    pytester.makepyfile(app=APP)
    pytester.makeini(STRICT_INI + "addopts = --strict-markers\n")  # the markers are registered
    return pytester


FAILURES = """
import pytest


def test_a_handler_exception_is_raised_as_itself(workerhost_client):
    with pytest.raises(KeyError, match="missing key"):
        workerhost_client.get("/missing")


def test_the_traceback_runs_through_the_handler(workerhost_client):
    try:
        workerhost_client.get("/missing")
    except KeyError as exc:
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        assert "fetch" in frames
    else:
        raise AssertionError("no KeyError")


def test_a_value_that_is_not_a_response_is_a_type_error(workerhost_client):
    with pytest.raises(TypeError, match="returned builtins.int: 42 instead of a Response"):
        workerhost_client.get("/garbage")


def test_wait_until_raises_what_wait_until_work_raised(workerhost):
    assert workerhost.client.get("/later-fails").status_code == 202
    with pytest.raises(RuntimeError, match="the wait_until work failed"):
        workerhost.wait_until()
    workerhost.wait_until()  # raised once


@pytest.mark.workerhost(raise_handler_exceptions=False)
def test_a_marker_asks_for_the_500_instead(workerhost_client):
    response = workerhost_client.get("/missing")
    assert response.status_code == 500 and "KeyError" in response.text


def test_a_test_can_switch_raising_off_midway(workerhost):
    workerhost.raise_handler_exceptions = False
    assert workerhost.client.get("/garbage").status_code == 500
    workerhost.client.get("/later-fails")
    workerhost.wait_until()


def test_raising_is_back_on_in_the_next_test(workerhost_client):
    with pytest.raises(TypeError):
        workerhost_client.get("/garbage")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_clients_raise_too(workerhost_async_client):
    with pytest.raises(KeyError, match="missing key"):
        await workerhost_async_client.get("/missing")


@pytest.mark.anyio
@pytest.mark.workerhost(raise_handler_exceptions=False)
async def test_and_answer_500_when_asked(workerhost_async, workerhost_async_client):
    assert (await workerhost_async_client.get("/missing")).status_code == 500
    await workerhost_async_client.get("/later-fails")
    await workerhost_async.wait_until()
"""


def test_handler_failures_reach_the_test_as_python_exceptions(project: pytest.Pytester) -> None:
    # Before: the test saw a 500 page (a JSONDecodeError once it parsed it) and the KeyError only in the log.
    project.makepyfile(test_failures=FAILURES)
    project.runpytest(*INPROCESS).assert_outcomes(passed=9)


OVERRIDES = """
import pytest

pytestmark = pytest.mark.workerhost(vars={"MODE": "module"})


def test_the_config_decides_without_a_marker_but_the_modules(workerhost_client):
    assert workerhost_client.get("/env").json() == {"greeting": "hi", "mode": "module", "key": None}


@pytest.mark.workerhost(vars={"GREETING": "hey"}, secrets={"API_KEY": "test-key"})
def test_vars_and_secrets_for_one_test(workerhost):
    assert workerhost.client.get("/env").json() == {"greeting": "hey", "mode": "module", "key": "test-key"}
    assert "test-key" not in repr(workerhost.env())  # still a secret: never shown


def test_the_next_test_has_the_configs_again(workerhost_client):
    assert workerhost_client.get("/env").json()["greeting"] == "hi"


@pytest.mark.workerhost(config="other/kv.yaml")
def test_another_config_file(workerhost):
    assert workerhost.client.get("/env").json()["greeting"] == "from the other config"
    assert [ns.title for ns in workerhost.run(workerhost.store.list_namespaces())] == ["other"]


@pytest.mark.workerhost(vars={"MODE": {"nested": [1, 2]}})
def test_vars_may_be_any_json(workerhost_client):
    assert workerhost_client.get("/env").json()["mode"] == {"nested": [1, 2]}


def test_module_state_lasts_from_one_test_to_the_next_as_from_one_request_to_the_next(workerhost_client):
    assert workerhost_client.get("/visits").json() == 1


def test_so_this_test_sees_the_visit_of_the_one_before(workerhost_client):
    assert workerhost_client.get("/visits").json() == 2


@pytest.mark.workerhost(fresh_modules=True)
def test_fresh_modules_import_the_handlers_for_one_test(workerhost_client):
    assert workerhost_client.get("/visits").json() == 1
"""

BAD_OPTIONS = """
import pytest


@pytest.mark.workerhost(vras={"A": "1"})
def test_a_typo(workerhost):
    pass


@pytest.mark.workerhost(secrets={"KEY": 1})
def test_a_secret_that_is_not_a_string(workerhost):
    pass


@pytest.mark.workerhost({"A": "1"})
def test_a_positional_option(workerhost_client):
    pass


@pytest.mark.workerhost(config="nowhere.yaml")
def test_a_config_that_does_not_exist(workerhost):
    pass
"""


def test_a_marker_sets_vars_secrets_and_the_config_per_test(project: pytest.Pytester) -> None:
    (project.path / "other").mkdir()
    (project.path / "other" / "kv.yaml").write_text(OTHER_YAML)
    project.makepyfile(test_overrides=OVERRIDES)
    project.runpytest(*INPROCESS, "-p", "no:randomly").assert_outcomes(passed=8)


def test_a_bad_marker_fails_the_tests_setup_with_one_line(project: pytest.Pytester) -> None:
    project.makepyfile(test_bad=BAD_OPTIONS)
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(errors=4)
    marker = "*workerhost: @pytest.mark.workerhost: "
    result.stdout.fnmatch_lines(
        [
            f"{marker}vras is not a known option; expected one of: config, vars, secrets, raise_handler_exceptions, "
            "fresh_modules",
            f"{marker}secrets are strings, as in .dev.vars; KEY is 1",
            f"{marker}options are keyword arguments, e.g. vars={{...}}; got ({{'A': '1'}},)",
            f"*workerhost: {project.path / 'nowhere.yaml'}: not found*",
        ]
    )


CLOCK = """
import time
from datetime import datetime, timezone

import pytest
import time_machine
from freezegun import freeze_time


def test_handler_time_stands_still_and_advance_moves_it_with_kv(workerhost, workerhost_clock):
    first = workerhost.client.get("/now").json()
    assert first["time"] == workerhost_clock.now() == time.time()
    assert workerhost.client.get("/now").json() == first  # no time passes unless the test moves it
    workerhost.client.put("/brief", content=b"x", params={"ttl": "60"})
    workerhost.advance(60)
    moved = workerhost.client.get("/now").json()
    assert moved["time"] == first["time"] + 60
    later = datetime.fromisoformat(moved["iso"]) - datetime.fromisoformat(first["iso"])
    assert abs(later.total_seconds() - 60) < 1e-5  # datetime.now() moved too (to the microsecond)
    assert workerhost.client.get("/brief").status_code == 404  # and KV expiry moved with it


def test_time_machine_moves_kv_expiry_too(workerhost):
    workerhost.client.put("/brief", content=b"x", params={"ttl": "60"})
    with time_machine.travel(time.time() + 59, tick=False) as traveller:
        assert workerhost.client.get("/brief").status_code == 200
        traveller.shift(1)
        assert workerhost.client.get("/brief").status_code == 404
        assert workerhost.client.get("/now").json()["time"] == time.time()
        with pytest.raises(RuntimeError, match="move time with that tool"):
            workerhost.advance(10)


def test_the_time_machine_fixture_moves_kv_expiry_too(workerhost, time_machine):
    workerhost.client.put("/brief", content=b"x", params={"ttl": "120"})
    time_machine.move_to(time.time() + 119, tick=False)
    assert workerhost.client.get("/brief").status_code == 200
    time_machine.shift(1)
    assert workerhost.client.get("/brief").status_code == 404


def test_freezegun_moves_kv_expiry_too(workerhost):
    workerhost.client.put("/brief", content=b"x", params={"ttl": "60"})
    with freeze_time(datetime.fromtimestamp(time.time() + 60, timezone.utc)):
        assert workerhost.client.get("/brief").status_code == 404
        assert workerhost.kv("PAGES").list()["keys"] == []


def test_each_test_starts_at_the_real_time(workerhost):
    assert abs(workerhost.clock.now() - time_machine.escape_hatch.time.time()) < 60
"""


def test_one_clock_for_kv_expiry_and_handler_code(project: pytest.Pytester) -> None:
    # Before: advance() moved the KV clock only, and time-machine or freezegun moved handler time only.
    project.makepyfile(test_clock=CLOCK)
    project.runpytest(*INPROCESS).assert_outcomes(passed=5)


FETCH = """
import httpx
import pytest


def test_the_test_answers_the_handlers_outbound_requests(workerhost, workerhost_fetch):
    route = workerhost_fetch.get("https://api.weather.example/today", params={"city": "Oslo"})
    route.respond(json={"sky": "clear"})
    assert workerhost.client.get("/weather", params={"city": "Oslo"}).json() == {
        "upstream": 200,
        "forecast": {"sky": "clear"},
    }
    assert route.call_count == 1
    assert workerhost_fetch.calls.last.request.url.params["city"] == "Oslo"


def test_a_request_no_route_answers_fails_in_the_test(workerhost, workerhost_fetch):
    with pytest.raises(AssertionError, match="not mocked"):
        workerhost.client.get("/weather", params={"city": "Lima"})


def test_the_next_test_has_no_routes_left(workerhost_fetch, workerhost_client):
    with pytest.raises(AssertionError, match="not mocked"):
        workerhost_client.get("/weather", params={"city": "Oslo"})


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_async_tests_answer_fetch_the_same_way(workerhost_async_client, workerhost_fetch):
    workerhost_fetch.get("https://api.weather.example/today").respond(json="rain")
    assert (await workerhost_async_client.get("/weather", params={"city": "Bergen"})).json()["forecast"] == "rain"


def test_respx_mock_works_as_well(workerhost_client, respx_mock):
    respx_mock.get("https://api.weather.example/today").mock(return_value=httpx.Response(503, json={}))
    assert workerhost_client.get("/weather", params={"city": "x"}).json()["upstream"] == 503
"""

CONFLICTS = """
import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_both_harnesses(workerhost, workerhost_async):
    pass


def test_a_harness_and_an_app_of_its_own(workerhost_client, workerhost_app):
    pass


def test_two_ways_to_answer_fetch(workerhost, workerhost_fetch, respx_mock):
    pass


def test_fetch_without_a_host(workerhost_fetch):
    pass
"""


def test_outbound_fetch_is_answered_by_the_test(project: pytest.Pytester) -> None:
    project.makepyfile(test_fetch=FETCH)
    project.runpytest(*INPROCESS).assert_outcomes(passed=5)


def test_fixtures_that_conflict_get_one_line_naming_both(project: pytest.Pytester) -> None:
    project.makepyfile(test_conflicts=CONFLICTS)
    result = project.runpytest(*INPROCESS)
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines(
        [
            "*workerhost: a test can use workerhost or workerhost_async, not both",
            "*workerhost: a test can use workerhost or workerhost_app, not both",
            "*workerhost: a test can use workerhost_fetch or respx_mock, not both",
            "*workerhost: workerhost_fetch answers the requests of a running host's handlers: use it with workerhost",
        ]
    )


ORDER_CONFTEST = """
import os
import random


def pytest_collection_modifyitems(items):
    # The same shuffle on every xdist worker (they must collect alike), a different one per seed.
    random.Random(os.environ["ORDER_SEED"]).shuffle(items)
"""

SAME_KEYS = """
import os

import pytest
import time_machine

ROUNDS = 60


def namespaces(workerhost):
    account = workerhost.config.account_id
    listed = workerhost.client.get(f"/client/v4/accounts/{account}/storage/kv/namespaces").json()["result"]
    return {item["title"]: item["id"] for item in listed}


@pytest.mark.parametrize("round", range(ROUNDS))
def test_every_test_starts_from_what_the_config_declares(workerhost, round):
    account = workerhost.config.account_id
    base = f"/client/v4/accounts/{account}/storage/kv/namespaces"
    # Nothing any other test did is seen: no key, no namespace, no title changed, no state kept.
    assert workerhost.kv("PAGES").list()["keys"] == [] and workerhost.kv("LOG").list()["keys"] == []
    assert sorted(namespaces(workerhost)) == ["log", "pages"]
    assert workerhost.client.get("/shared").status_code == 404
    assert abs(workerhost.clock.now() - time_machine.escape_hatch.time.time()) < 60  # nobody else's time

    # The same keys in every test, written every way a test can.
    assert workerhost.client.put("/shared", content=f"round {round}".encode(), params={"ttl": "120"}).status_code == 201
    workerhost.kv("LOG").put("worker", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    kind = round % 5
    if kind == 0:
        workerhost.client.put("/later", content=b"x")  # its wait_until write lands after the response
    elif kind == 1:
        extra = workerhost.client.post(base, json={"title": "extra"}).json()["result"]["id"]
        workerhost.client.put(f"{base}/{extra}/values/shared", content=b"in extra")
    elif kind == 2:
        assert workerhost.client.delete(f"{base}/{namespaces(workerhost)['log']}").status_code == 200
    elif kind == 3:
        found = namespaces(workerhost)
        assert workerhost.client.put(f"{base}/{found['pages']}", json={"title": "renamed"}).status_code == 200
        if round % 2:  # and the other takes its title: the two are swapped
            assert workerhost.client.put(f"{base}/{found['log']}", json={"title": "pages"}).status_code == 200
            assert workerhost.client.put(f"{base}/{found['pages']}", json={"title": "log"}).status_code == 200
    else:
        workerhost.advance(119)
    assert workerhost.client.get("/shared").text == f"round {round}"
"""


def test_no_test_sees_another_tests_data_in_any_order_under_xdist(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import random

    from tests.support import ROOT

    from .test_testing import KV_YAML as TWO_NAMESPACES, PLUGIN, SITE

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    project.makefile(".yaml", kv=TWO_NAMESPACES)
    project.makepyfile(site=SITE, conftest=ORDER_CONFTEST, test_same_keys=SAME_KEYS)
    seed = str(random.randrange(1_000_000))  # a new order every run; a failure names it
    monkeypatch.setenv("ORDER_SEED", seed)
    result = project.runpytest_subprocess(*PLUGIN, "-p", "xdist", "-n", "2")
    assert result.parseoutcomes().get("passed") == 60, f"ORDER_SEED={seed}"
    result.stdout.fnmatch_lines(["*2 workers*"])
