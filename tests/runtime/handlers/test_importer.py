"""Loads off the event loop (runtime.handlers.importer): real threads, real scripts, small time limits."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from runtime.errors import HandlerLoadError
from runtime.handlers.importer import ImportTimeoutError, load_off_loop, run_import
from tests.support import write_files

pytestmark = pytest.mark.anyio
WAIT = 20.0  # seconds a test waits for something that happens at once unless the code is broken


def spin(started: list[threading.Thread]) -> None:
    started.append(threading.current_thread())
    while True:
        pass


async def test_the_loop_runs_on_while_a_load_runs() -> None:
    release = threading.Event()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while not release.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    ticker = asyncio.ensure_future(tick())
    load = asyncio.ensure_future(run_import(lambda: release.wait(WAIT) and "loaded", 60))
    while ticks < 20:  # the loop turns while the call blocks its thread
        await asyncio.sleep(0.001)
    assert not load.done()
    release.set()
    assert await load == "loaded"
    await ticker


async def test_loads_run_one_at_a_time_in_the_order_asked() -> None:
    order: list[str] = []
    release = threading.Event()

    def first() -> str:
        order.append("first begins")
        release.wait(WAIT)
        order.append("first ends")
        return "first"

    def second() -> str:
        order.append("second begins")
        return "second"

    loads = [asyncio.ensure_future(run_import(first, 60)), asyncio.ensure_future(run_import(second, 60))]
    while not order:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.05)  # time in which a second load, were it allowed, would begin
    assert order == ["first begins"]
    release.set()
    assert await asyncio.gather(*loads) == ["first", "second"]
    assert order == ["first begins", "first ends", "second begins"]


async def test_a_load_looping_in_python_past_its_limit_is_interrupted() -> None:
    started: list[threading.Thread] = []
    with pytest.raises(ImportTimeoutError) as info:
        await run_import(lambda: spin(started), 0.2)
    assert info.value.limit == 0.2
    assert f"line {spin.__code__.co_firstlineno + 2}, in spin" in info.value.stack
    started[0].join(WAIT)
    assert not started[0].is_alive()


async def test_a_load_blocked_in_c_is_abandoned_without_waiting_and_the_next_load_runs() -> None:
    stuck = threading.Event()
    threads: list[threading.Thread] = []

    def blocked() -> None:
        threads.append(threading.current_thread())
        stuck.wait()  # a lock acquire in C: the interrupting exception waits until it returns

    with pytest.raises(ImportTimeoutError):
        await run_import(blocked, 0.2)
    assert threads[0].is_alive() and threads[0].daemon
    assert await run_import(lambda: "next", 60) == "next"
    stuck.set()  # the abandoned thread ends at last, and its outcome goes nowhere
    threads[0].join(WAIT)
    assert not threads[0].is_alive()


async def test_a_cancelled_load_is_abandoned_and_one_still_waiting_never_runs() -> None:
    ran: list[str] = []
    started: list[threading.Thread] = []
    running = asyncio.ensure_future(run_import(lambda: spin(started), 60))
    waiting = asyncio.ensure_future(run_import(lambda: ran.append("waiting"), 60))
    while not started:
        await asyncio.sleep(0.001)
    waiting.cancel()
    running.cancel()
    for load in (running, waiting):
        with pytest.raises(asyncio.CancelledError):
            await load
    started[0].join(WAIT)
    assert not started[0].is_alive()
    assert await run_import(lambda: "after", 60) == "after"
    assert ran == []


async def test_what_the_call_raises_is_raised_to_the_caller() -> None:
    def fail() -> None:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        await run_import(fail, 60)
    assert await run_import(lambda: "next", 60) == "next"


async def test_a_script_that_does_not_finish_importing_is_a_load_error_showing_where(tmp_path: Path) -> None:
    write_files(tmp_path, {"app/worker.py": "def warm():\n    while True:\n        pass\n\n\nwarm()\n"})
    began = time.monotonic()
    with pytest.raises(HandlerLoadError) as info:
        await load_off_loop(tmp_path / "app" / "worker.py", "app/worker.py", "hung", 0.3)
    assert time.monotonic() - began >= 0.3
    message = str(info.value)
    assert message.startswith("app/worker.py did not finish importing within 0.3 s; it was still running:\n")
    assert 'worker.py", line 6, in <module>\n    warm()\n' in message
    assert 'worker.py", line 2, in warm\n    while True:\n' in message
    assert "importlib" not in message and "runtime/handlers" not in message
    assert message.endswith("allow more time with --import-timeout (WORKERHOST_IMPORT_TIMEOUT).")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="blocks in C on a FIFO")
async def test_a_module_an_abandoned_load_is_stuck_importing_imports_at_the_next_load(tmp_path: Path) -> None:
    # The abandoned thread blocks in C, holding the import lock of the module it is executing.
    fifo = tmp_path / "blocks"
    os.mkfifo(fifo)
    write_files(
        tmp_path,
        {
            "stuck_beside_the_script.py": f"open({str(fifo)!r}).close()\nNAME = 'stuck'\n",
            "w.py": "import stuck_beside_the_script\n\nasync def fetch(request, env, ctx): ...\n",
        },
    )
    with pytest.raises(HandlerLoadError, match="did not finish importing"):
        await load_off_loop(tmp_path / "w.py", "w.py", "first", 0.3)
    (tmp_path / "stuck_beside_the_script.py").write_text("NAME = 'fixed'\n")
    try:
        handlers = await load_off_loop(tmp_path / "w.py", "w.py", "second", 10)
        assert handlers.module.stuck_beside_the_script.NAME == "fixed"
    finally:
        with open(fifo, "w"):  # the abandoned thread returns from C, and ends
            pass
