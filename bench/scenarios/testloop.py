"""Row ``test-loop``: what a test written with workerhost's pytest plugin costs, against the floor.

One pytest run holds two files of the same count of one-request tests. In ``test_workerhost.py``
each test uses ``workerhost_client`` on the benchmark's kv.yaml and writes a key through the handler,
on fresh storage of its own. In ``test_starlette.py`` each test builds a Starlette app and hits it
through Starlette's ``TestClient``, the floor of an in-process ASGI test. A conftest sums each test's
setup, call and teardown time per file; the first workerhost test pays for starting the session's
host. Rounds alternate which file runs first, so neither always meets a cold interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ..peers import workerhost
from ..report import Check, Row, Series, ratio
from . import Context

__all__ = ["KEYS", "run"]

KEYS = ("test-loop",)
TARGET = 1.5  # a workerhost test costs at most this many Starlette TestClient tests

CONFTEST = """
import json
import os
from collections import defaultdict

spent = defaultdict(float)
count = defaultdict(int)


def pytest_runtest_logreport(report):
    name = report.nodeid.split("::")[0]
    spent[name] += report.duration
    if report.when == "call" and report.passed:
        count[name] += 1


def pytest_sessionfinish(session):
    with open(os.environ["TEST_LOOP_RESULTS"], "w") as out:
        json.dump({"seconds": spent, "passed": count}, out)
"""

WORKERHOST_TESTS = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_a_write_through_the_handler(workerhost_client, n):
    assert workerhost_client.get("/write").text == "ok"
"""

STARLETTE_TESTS = """
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient


@pytest.mark.parametrize("n", range({count}))
def test_a_write_through_the_app(n):
    store = {{}}

    async def write(request):
        store["k"] = "value"
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/write", write)])
    with TestClient(app) as client:
        assert client.get("/write").text == "ok"
"""

# Starlette 1.x warns that its TestClient would rather use httpx2; the floor is the same either way.
PYTEST_INI = """
[pytest]
filterwarnings =
    ignore:Using .httpx. with .starlette.testclient.
"""

FILES = ("test_workerhost.py", "test_starlette.py")


def run(ctx: Context, keys: set[str]) -> list[Row]:
    count = 20 if ctx.settings.smoke else 1000
    row = Row(
        "test-loop",
        f"{count:,} one-request pytest tests: workerhost plugin (fresh storage per test) vs Starlette TestClient",
        f"a workerhost test ≤ {TARGET:g}× a Starlette TestClient test, same run",
    )
    project = ctx.folder("test-loop")
    workerhost.write_project(project)
    (project / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (project / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (project / FILES[0]).write_text(WORKERHOST_TESTS.format(count=count), encoding="utf-8")
    (project / FILES[1]).write_text(STARLETTE_TESTS.format(count=count), encoding="utf-8")
    per_test: dict[str, list[float]] = {name: [] for name in FILES}
    for round_number in range(ctx.settings.rounds):
        order = FILES if round_number % 2 == 0 else FILES[::-1]
        results = project / f"results-{round_number}.json"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *order],
            cwd=project,
            env={**workerhost.full_environment(), "TEST_LOOP_RESULTS": str(results)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        (ctx.logs / f"test-loop-{round_number}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            raise RuntimeError(f"the test run failed (exit {done.returncode}): {done.stdout[-500:]}")
        measured = json.loads(results.read_text(encoding="utf-8"))
        for name in FILES:
            if measured["passed"].get(name) != count:
                raise RuntimeError(f"{name}: {measured['passed'].get(name)} of {count} tests passed")
            per_test[name].append(measured["seconds"][name] / count * 1000)
    plugin, floor = Series(per_test[FILES[0]]), Series(per_test[FILES[1]])
    row.lines.append(f"workerhost plugin: {plugin.show('ms per test', 2)}")
    row.lines.append(f"Starlette TestClient: {floor.show('ms per test', 2)}")
    row.checks.append(Check("workerhost / TestClient", ratio(plugin, floor), TARGET, False))
    row.data = {"count": count, "cores": os.cpu_count(), "workerhost_ms": plugin, "starlette_ms": floor}
    return [row]
