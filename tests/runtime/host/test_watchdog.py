"""The event-loop watchdog: a handler that blocks the loop is named in the log, with how long and where.

The handlers here block with ``time.sleep``: blocking the loop is the behaviour under test. Durations
are only checked from below (a block is never reported shorter than it was).
"""

from __future__ import annotations

import asyncio
import logging
import re
import textwrap
import time
from pathlib import Path

import pytest

from runtime import create_app, load_config
from runtime.host.watchdog import LoopWatchdog
from tests.support import app_client, write_files

pytestmark = pytest.mark.anyio

FILES = {
    "kv.yaml": """
        workers:
          - name: sleepy
            script: sleepy/worker.py
            routes: ["/*"]
            triggers: {crons: ["0 0 1 1 *"]}
    """,
    "sleepy/worker.py": """
        import time

        from helpers import crunch
        from runtime import Response


        async def fetch(request, env, ctx):
            if request.url.path == "/later":
                ctx.wait_until(nap())
                return Response("queued")
            if request.url.path == "/helper":
                crunch(0.4)
                return Response("crunched")
            time.sleep(0.4)
            return Response("slept")


        async def nap():
            time.sleep(0.4)


        async def scheduled(controller, env, ctx):
            time.sleep(0.4)
    """,
    "sleepy/helpers.py": """
        import time


        def crunch(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
    """,
}

BLOCKED = re.compile(
    r"^worker sleepy blocked the event loop for (\d+) ms \((.*?)\) at (.+?): nothing else is served meanwhile; "
    r"await, or run blocking code with asyncio.to_thread\(\)$"
)


def line(path: str, text: str) -> str:
    """``path:N`` of the line of a project file that holds ``text``."""
    lines = textwrap.dedent(FILES[path]).lstrip("\n").splitlines()
    return f"{path}:{next(n for n, source in enumerate(lines, 1) if text in source)}"


def blocks(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, str]]:
    found = []
    for record in caplog.records:
        match = BLOCKED.match(record.getMessage())
        if match and record.levelno == logging.WARNING:
            found.append((int(match[1]), match[2], match[3]))
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path, FILES)


async def test_a_handler_that_blocks_is_named_with_its_request_duration_and_line(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "workerhost")
    app = create_app(load_config(project / "kv.yaml", environ={}), api=False)
    async with app_client(app) as client:
        # In-process requests need not yield to the loop; the pauses let the heartbeat report each block.
        assert (await client.get("/slow")).text == "slept"
        await asyncio.sleep(0.1)
        assert (await client.get("/helper")).text == "crunched"
        await asyncio.sleep(0.1)
        assert (await client.get("/__workerhost/status")).status_code == 200  # the host serves on
    (slow_ms, slow_doing, slow_at), (helper_ms, helper_doing, helper_at) = blocks(caplog)
    assert (slow_doing, slow_at) == ("GET /slow", f"{line('sleepy/worker.py', 'time.sleep(0.4)')} in fetch")
    assert helper_doing == "GET /helper"
    assert helper_at in {f"{line('sleepy/helpers.py', text)} in crunch" for text in ("while", "pass")}
    assert slow_ms >= 400 and helper_ms >= 400


async def test_wait_until_work_and_scheduled_runs_that_block_are_named(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "workerhost")
    app = create_app(load_config(project / "kv.yaml", environ={}), api=False)
    async with app_client(app) as client:
        await client.get("/later")
        await app.workerhost.drain()
        await asyncio.sleep(0.1)  # the report comes with the heartbeat that follows the block
        await client.get("/__workerhost/scheduled", params={"worker": "sleepy"})
        await asyncio.sleep(0.1)
    lines = textwrap.dedent(FILES["sleepy/worker.py"]).lstrip("\n").splitlines()
    sleeps = [n for n, source in enumerate(lines, 1) if "sleep(0.4)" in source]
    assert [(doing, at) for _, doing, at in blocks(caplog)] == [
        ("wait_until work", f"sleepy/worker.py:{sleeps[1]} in nap"),
        ('scheduled "0 0 1 1 *"', f"sleepy/worker.py:{sleeps[2]} in scheduled"),
    ]


async def test_a_block_that_goes_on_is_reported_while_it_lasts(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "workerhost")
    app = create_app(load_config(project / "kv.yaml", environ={}), api=False)
    app.workerhost.watchdog = LoopWatchdog(ongoing_after=0.2)
    async with app_client(app) as client:
        await client.get("/slow")
        await asyncio.sleep(0.1)
    messages = [record.getMessage() for record in caplog.records]
    assert re.match(r"worker sleepy has blocked the event loop for \d+ ms so far \(GET /slow\) at ", messages[0])
    assert re.match(r"worker sleepy blocked the event loop for \d+ ms \(GET /slow\) at ", messages[-1])


async def test_a_block_outside_handler_code_is_logged_at_debug_level_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "workerhost")
    watchdog = LoopWatchdog(threshold=0.1, interval=0.02)
    watchdog.start()
    try:
        time.sleep(0.3)
        await asyncio.sleep(0.05)
    finally:
        watchdog.stop()
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert re.fullmatch(r"something blocked the event loop for \d+ ms", record.getMessage())


async def test_a_quiet_loop_reports_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "workerhost")
    watchdog = LoopWatchdog(threshold=10.0, interval=0.01)
    watchdog.start()
    await asyncio.sleep(0.1)
    watchdog.stop()
    assert not caplog.records
