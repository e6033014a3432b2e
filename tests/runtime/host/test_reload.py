from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runtime.config import load_config
from runtime.host.reload import QueueSource, Reloader, WatchfilesSource, WatchTargets, watch_targets
from tests.support import write_files

pytestmark = pytest.mark.anyio


def project(tmp_path: Path) -> Path:
    return write_files(
        tmp_path,
        {
            "kv.yaml": "workers: [{name: a, script: app/worker.py}]\n",
            "app/worker.py": "async def fetch(r, e, c): ...\n",
            "app/lib/__init__.py": "",
            "app/__pycache__/x.pyc": "",
            "app/.hidden/y.py": "",
        },
    )


def test_watch_targets_cover_scripts_their_subfolders_and_config(tmp_path: Path) -> None:
    targets = watch_targets(load_config(project(tmp_path) / "kv.yaml", environ={}))
    assert targets.folders == {tmp_path, tmp_path / "app", tmp_path / "app" / "lib"}
    assert targets.relevant(str(tmp_path / "kv.yaml")) and targets.relevant(str(tmp_path / ".dev.vars"))
    assert targets.relevant(str(tmp_path / "app" / "lib" / "m.py"))
    assert not targets.relevant(str(tmp_path / "other.py"))  # kv.yaml's folder is not a script folder here
    assert not targets.relevant(str(tmp_path / "app" / "notes.txt"))


async def test_reloader_calls_reload_for_each_batch_and_stops() -> None:
    source, seen = QueueSource(), []

    async def reload(changed: set[str]) -> None:
        seen.append(changed)

    nothing = WatchTargets(frozenset(), frozenset(), frozenset())
    reloader = Reloader(source, lambda: nothing, reload)
    task = asyncio.ensure_future(reloader.run())
    source.announce("a.py", "b.py")
    while not seen:
        await asyncio.sleep(0.001)
    reloader.stop()
    await asyncio.wait_for(task, 5)
    assert seen == [{"a.py", "b.py"}]


async def test_watchfiles_source_reports_a_saved_file(tmp_path: Path) -> None:
    targets = watch_targets(load_config(project(tmp_path) / "kv.yaml", environ={}))
    stop = asyncio.Event()
    changes = WatchfilesSource().changes(targets, stop)
    first = asyncio.ensure_future(changes.__anext__())
    script = tmp_path / "app" / "worker.py"
    for _ in range(500):  # the watch starts in a thread: keep saving until it is seen
        script.write_text("async def fetch(r, e, c): return None\n")
        done, _ = await asyncio.wait({first}, timeout=0.02)
        if done:
            break
    assert str(script) in first.result()
    stop.set()
    await changes.aclose()
