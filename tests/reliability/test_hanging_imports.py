"""Scripts that take long, or forever, to import, against the real host (``workerhost dev`` in a subprocess).

A script's module-level code runs at every load: at start and at each reload. It runs on a thread of
its own, so the host serves the last good version meanwhile, REST API included. A script that does not
finish within the import time limit (``--import-timeout``, ``WORKERHOST_IMPORT_TIMEOUT``) is reported
like a syntax error, and SIGTERM stops the host even while an import hangs. None of these tests waits
for a fixed time: a script under test writes a marker file when its import begins, and the slow one
waits for a gate file the test creates.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.config import DEFAULT_ACCOUNT_ID
from tests.support import ROOT, DevServer, dev_server, eventually, free_port, write_files

NAMESPACES = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: app
            script: app/worker.py
            routes: ["/app/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
    """,
    "app/worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            return Response("v1")
    """,
}

# Module-level code that says its import has begun (a file "loading" beside it), then does ``BODY``.
HANGING = """
import os
import time

from runtime import Response

open(os.path.join(os.path.dirname(__file__), "loading"), "w").close()
BODY


async def fetch(request, env, ctx):
    return Response("VERSION")
"""
WAIT_FOR_GATE = 'while not os.path.exists(os.path.join(os.path.dirname(__file__), "gate")):\n    time.sleep(0.01)'
SPIN = "while True:\n    pass"  # pure Python: the host can interrupt it
SLEEP = "time.sleep(3600)"  # in C: the host cannot interrupt it, and must not wait for it


def hanging(body: str, version: str = "v2") -> str:
    return HANGING.replace("BODY", body).replace("VERSION", version)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path, PROJECT)


@pytest.fixture
def server(project: Path) -> Iterator[DevServer]:
    server = DevServer(project / "kv.yaml", project / "data", env={"WORKERHOST_IMPORT_TIMEOUT": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop(signal.SIGKILL)  # a script under test may have left a thread that never ends


def save(project: Path, source: str) -> None:
    (project / "app" / "worker.py").write_text(source)


def import_began(project: Path) -> bool:
    return (project / "app" / "loading").exists()


def test_requests_are_served_by_the_last_good_version_while_a_script_loads(project: Path) -> None:
    with dev_server(project / "kv.yaml", project / "data") as server:
        save(project, hanging(WAIT_FOR_GATE))
        eventually(lambda: import_began(project), what="the new script's import to begin")
        # The import is under way and will not end before the gate opens: everything answers meanwhile.
        assert server.client.get("/app/x", timeout=5).text == "v1"
        assert server.client.get(NAMESPACES, timeout=5).json()["success"] is True
        assert server.client.get("/__workerhost/status", timeout=5).json()["version"] == 1
        (project / "app" / "gate").touch()
        eventually(lambda: server.client.get("/app/x").text == "v2", what="the new version to serve")


@pytest.mark.parametrize("body", [SPIN, SLEEP], ids=["python loop", "sleep in C"])
def test_a_reload_that_never_finishes_importing_is_an_error_and_the_last_good_version_serves(
    project: Path, server: DevServer, body: str
) -> None:
    save(project, hanging(body))
    error = eventually(lambda: server.status()["reload"]["error"], what="the reload error at the status route")
    assert error.startswith("app/worker.py did not finish importing within 1 s"), error
    assert "line 8, in <module>" in error, error  # where it was stuck: the line after the marker
    assert "reload failed; still serving version 1" in server.stderr()
    assert server.client.get("/app/x").text == "v1"
    # The stuck import holds nothing up: the next save loads.
    save(project, PROJECT["app/worker.py"].replace('"v1"', '"v3"').replace("\n        ", "\n"))
    eventually(lambda: server.client.get("/app/x").text == "v3", what="the fixed script to serve")
    assert server.status()["reload"]["error"] is None


def test_a_module_beside_the_script_that_hangs_in_c_holds_up_no_later_load(project: Path, server: DevServer) -> None:
    # The abandoned thread sleeps on with helpers.py half-imported, holding its import lock.
    (project / "app" / "helpers.py").write_text('import time\n\ntime.sleep(3600)\nNAME = "v2"\n')
    save(
        project,
        "import helpers\nfrom runtime import Response\n\nasync def fetch(request, env, ctx):\n"
        "    return Response(helpers.NAME)\n",
    )
    error = eventually(lambda: server.status()["reload"]["error"], what="the reload error")
    assert 'helpers.py", line 3, in <module>\n    time.sleep(3600)' in error, error
    (project / "app" / "helpers.py").write_text('NAME = "v3"\n')  # the fix: it imports at once
    eventually(lambda: server.client.get("/app/x").text == "v3", what="the fixed helper to serve")
    assert server.status()["reload"]["error"] is None


def test_a_script_that_never_finishes_importing_at_start_is_a_startup_error(project: Path) -> None:
    save(project, hanging(SPIN))
    port = str(free_port())
    command = [sys.executable, "-m", "runtime", "dev", "--config", str(project / "kv.yaml"), "--port", port]
    done = subprocess.run([*command, "--import-timeout", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "workerhost: error: app/worker.py did not finish importing within 1 s" in done.stderr
    assert "--import-timeout" in done.stderr  # how to give it longer
    assert "line 8, in <module>" in done.stderr


@pytest.mark.parametrize("when", ["at start", "at reload"])
def test_sigterm_stops_the_host_while_an_import_hangs(project: Path, when: str) -> None:
    # A limit far away: the host must stop because it was asked to, not because the import timed out.
    server = DevServer(project / "kv.yaml", project / "data", env={"WORKERHOST_IMPORT_TIMEOUT": "600"})
    try:
        if when == "at start":
            save(project, hanging(SPIN))
            server.launch()
        else:
            server.start()
            save(project, hanging(SLEEP))
        eventually(lambda: import_began(project), what="the hanging import to begin")
        assert server.stop(signal.SIGTERM) == 0, server.stderr()
    finally:
        server.stop(signal.SIGKILL)
