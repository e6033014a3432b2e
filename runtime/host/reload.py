"""Hot reload: watch the files a config depends on and ask the host to reload when one changes.

Watched: the config file, the secret files beside it (``.dev.vars``, ``.env`` and their variants),
and every ``.py`` file in each handler script's folder (and its subfolders). Folders are watched one
by one, not recursively, so a config at the root of a big repo does not put a watch on every
directory of ``.venv``. The debounce is short on purpose: we are measured on the time from a save
to the new code serving.

The change source is pluggable: ``WatchfilesSource`` watches the disk, ``QueueSource`` lets tests
announce changes by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import RuntimeConfig

__all__ = ["ChangeSource", "QueueSource", "Reloader", "WatchTargets", "WatchfilesSource", "watch_targets"]

logger = logging.getLogger("workerhost")

DEBOUNCE_MS = 20  # longest time changes are grouped for
STEP_MS = 5  # how often the watcher checks whether a burst of changes has ended
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


@dataclass(frozen=True)
class WatchTargets:
    """What to watch: folders (each non-recursively) and the files in them that matter."""

    folders: frozenset[Path]
    files: frozenset[Path]  # the config file and the secret files
    script_folders: frozenset[Path]  # folders whose .py files matter

    def relevant(self, path: str) -> bool:
        changed = Path(path)
        if changed in self.files:
            return True
        return changed.suffix == ".py" and changed.parent in self.script_folders


def watch_targets(config: RuntimeConfig) -> WatchTargets:
    """The folders and files that ``config`` (and its scripts) depend on."""
    files = config.watched_files
    script_folders: set[Path] = set()
    persist = config.persist_to
    for worker in config.workers:
        if worker.script is not None:
            script_folders.update(_folders_under(worker.script.parent, persist))
    return WatchTargets(frozenset(script_folders | {config.path.parent}), files, frozenset(script_folders))


def _folders_under(root: Path, persist: Path) -> list[Path]:
    found = []
    for folder, subfolders, _ in os.walk(root):
        path = Path(folder)
        found.append(path)
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".") and name not in _SKIPPED_DIRS and path / name != persist
        ]
    return found


class ChangeSource(Protocol):
    """Yields sets of changed paths until ``stop`` is set."""

    def changes(self, targets: WatchTargets, stop: asyncio.Event) -> AsyncIterator[set[str]]: ...


class WatchfilesSource:
    """Changes on disk, via ``watchfiles`` with a short debounce.

    The watch runs on a thread of its own (watchfiles' blocking ``watch``), handing batches to the event
    loop. ``awatch`` would do the same through anyio, whose asyncio backend costs ``workerhost dev``
    about 20 ms of start-up before it can answer its first request.
    """

    def __init__(self, debounce_ms: int = DEBOUNCE_MS, step_ms: int = STEP_MS) -> None:
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms

    async def changes(self, targets: WatchTargets, stop: asyncio.Event) -> AsyncIterator[set[str]]:
        loop = asyncio.get_running_loop()
        batches: asyncio.Queue[set[str] | None] = asyncio.Queue()
        halt = threading.Event()
        folders = [str(folder) for folder in targets.folders if folder.is_dir()]

        def watch_on_thread() -> None:
            from watchfiles import watch  # imported here: it is not needed when reload is off

            try:
                for batch in watch(
                    *folders,
                    watch_filter=lambda _change, path: targets.relevant(path),
                    debounce=self.debounce_ms,
                    step=self.step_ms,
                    stop_event=halt,
                    recursive=False,
                    rust_timeout=200,  # bounds how long a stopped watch lingers in its thread
                    raise_interrupt=False,
                ):
                    loop.call_soon_threadsafe(batches.put_nowait, {path for _change, path in batch})
            except Exception:
                logger.exception("the file watcher failed")
            finally:
                with contextlib.suppress(RuntimeError):  # the loop is already closed
                    loop.call_soon_threadsafe(batches.put_nowait, None)

        thread = threading.Thread(target=watch_on_thread, name="workerhost-watch", daemon=True)
        thread.start()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                getting = asyncio.ensure_future(batches.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    return
                batch = getting.result()
                if batch is None:
                    return
                yield batch
        finally:
            stopping.cancel()
            halt.set()
            for _ in range(200):  # let the thread see the stop (within a step), at most a second
                if not thread.is_alive():
                    break
                await asyncio.sleep(0.005)


class QueueSource:
    """Changes announced by hand: ``source.announce("worker.py")``. For tests."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[set[str]] = asyncio.Queue()

    def announce(self, *paths: str | os.PathLike[str]) -> None:
        self._queue.put_nowait({os.fspath(path) for path in paths})

    async def changes(self, targets: WatchTargets, stop: asyncio.Event) -> AsyncIterator[set[str]]:
        while not stop.is_set():
            getter = asyncio.ensure_future(self._queue.get())
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in (getter, stopper):
                if task not in done:
                    task.cancel()
            if getter in done:
                yield getter.result()


class Reloader:
    """Runs a change source and calls ``reload`` for each batch of relevant changes.

    Args:
        source: where changes come from.
        targets: returns what to watch now (it changes when kv.yaml adds a worker in a new folder).
        reload: rebuilds and swaps the host's version; must not raise.
    """

    def __init__(
        self, source: ChangeSource, targets: Callable[[], WatchTargets], reload: Callable[[set[str]], Awaitable[object]]
    ) -> None:
        self._source = source
        self._targets = targets
        self._reload = reload
        self._stop = asyncio.Event()
        self._round_stop: asyncio.Event | None = None

    async def run(self) -> None:
        """Watch and reload until ``stop()``; restarts the watch when the targets change."""
        while not self._stop.is_set():
            targets = self._targets()
            self._round_stop = round_stop = asyncio.Event()
            async with aclosing(self._source.changes(targets, round_stop)) as changes:  # type: ignore[type-var]
                async for changed in changes:
                    if self._stop.is_set():
                        break
                    await self._reload(changed)
                    if self._targets() != targets:
                        round_stop.set()
                        break

    def stop(self) -> None:
        """Ask the watch to end; ``run()`` returns within a few milliseconds."""
        self._stop.set()
        if self._round_stop is not None:
            self._round_stop.set()
