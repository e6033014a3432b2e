"""Loading scripts off the event loop: one load at a time, each on a thread of its own, within a time limit.

A script's module-level code runs at every load, at start and at each reload, and it may take long (a
big library, a network call) or forever (``while True: pass``). Run on the event loop it would hold
every request meanwhile, and a loop that never ends would leave the host deaf even to SIGTERM. So
``load_off_loop`` runs ``load_handlers`` on a daemon thread and awaits it for at most ``limit`` seconds
(``--import-timeout``); past that, the load fails with an error that shows where the script was stuck.

* Loads run one at a time in the process, in the order asked (``_Line``): importing changes
  ``sys.modules`` for everyone, and two loads of one folder would drop each other's modules.
* A load past its limit, or whose caller is cancelled (SIGTERM while loading), is abandoned: an
  exception is raised in its thread (``PyThreadState_SetAsyncExc``), which ends code looping in Python
  at its next bytecode. A thread blocked in C (``time.sleep``) gets it only once that call returns, so
  the host never waits for the thread: it is a daemon thread, not one of asyncio's default executor
  (those are joined when the interpreter exits), and the next load starts at once. The import locks
  the thread holds are forgotten, so that load can import the same modules (``_forget_imports``).
* Requests on the loop may import modules while a load runs; ``loader`` keeps ``sys.meta_path`` fixed
  and answers for the script's folder only on the loading thread, so those imports resolve as they
  would with no load running.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, Generic, TypeVar

from ..errors import HandlerLoadError
from .loader import Handlers, load_handlers
from .tracebacks import format_user_stack

__all__ = ["ImportTimeoutError", "load_off_loop", "run_import"]

T = TypeVar("T")


class ImportTimeoutError(Exception):
    """An import ran past its time limit and was abandoned; ``stack`` says where it was."""

    def __init__(self, limit: float, stack: str) -> None:
        self.limit = limit
        self.stack = stack
        super().__init__(f"did not finish within {limit:g} s")


class _Abandoned(BaseException):
    """Raised in the thread of an abandoned load, to end it if it runs Python code (not ``Exception``, so
    a script's ``except Exception`` does not swallow it)."""


async def load_off_loop(script: Path, display: str, module_name: str, limit: float) -> Handlers:
    """``load_handlers`` on a thread of its own (see the module docstring), within ``limit`` seconds.

    Raises:
        HandlerLoadError: the script fails to load, or does not finish importing within ``limit``.
    """
    try:
        return await run_import(lambda: load_handlers(script, display, module_name), limit)
    except ImportTimeoutError as exc:
        raise HandlerLoadError(
            f"{display} did not finish importing within {limit:g} s; it was still running:\n{exc.stack.rstrip()}\n"
            "Module-level code runs at every load: move slow work into the handler, or allow more time "
            "with --import-timeout (WORKERHOST_IMPORT_TIMEOUT)."
        ) from None


async def run_import(call: Callable[[], T], limit: float) -> T:
    """``call()`` on a thread of its own, after the loads asked before it, within ``limit`` seconds of starting.

    Raises:
        ImportTimeoutError: ``call`` ran past ``limit``; its thread was abandoned.
        BaseException: whatever ``call`` raised.
    """
    load: _Load[T] = _Load(call, asyncio.get_running_loop())
    _LINE.join(load)
    try:
        await load.started
        await asyncio.wait_for(asyncio.shield(load.finished), limit)
    except TimeoutError:
        stack = format_user_stack(load.frame())  # before the abandoning exception unwinds it
        if load.abandon():
            raise ImportTimeoutError(limit, stack) from None
        # It finished at the last moment: its outcome is on its way.
    except BaseException:
        load.abandon()
        raise
    return await load.finished


class _Load(Generic[T]):
    """One call on a thread of its own; whoever takes ``_token`` first settles it: the thread or ``abandon``."""

    def __init__(self, call: Callable[[], T], loop: asyncio.AbstractEventLoop) -> None:
        self._call = call
        self._loop = loop
        self.started: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[T] = loop.create_future()
        self.thread: threading.Thread | None = None
        self._token = [True]  # list.pop() is atomic: exactly one of the two sides gets it

    def start(self) -> None:
        """Start the thread (``_Line`` calls this when the load's turn comes)."""
        self.thread = threading.Thread(target=self._run, name="workerhost-import", daemon=True)
        self.thread.start()
        self._report(self.started, None, None)

    def frame(self) -> FrameType | None:
        """The thread's innermost frame now (None once it has ended)."""
        return None if self.thread is None else sys._current_frames().get(self.thread.ident or 0)

    def abandon(self) -> bool:
        """Give up on the load, interrupting its thread; False if it had already finished."""
        try:
            self._token.pop()
        except IndexError:
            return False
        if self.thread is not None and self.thread.ident is not None:
            _interrupt(self.thread.ident)
            _forget_imports(self.thread.ident)  # before the next load starts, which may import the same
        _LINE.leave(self)
        return True

    def _run(self) -> None:
        try:
            try:
                result = self._call()
            except BaseException as exc:
                self._settle(None, exc)
            else:
                self._settle(result, None)
        except _Abandoned:
            pass  # it arrived after the call had returned; nobody waits for this load any more

    def _settle(self, result: T | None, error: BaseException | None) -> None:
        try:
            self._token.pop()
        except IndexError:
            return  # abandoned: the caller has moved on
        _LINE.leave(self)
        self._report(self.finished, result, error)

    def _report(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if future.done():  # the caller was cancelled meanwhile
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            self._loop.call_soon_threadsafe(settle)


class _Line:
    """The process's loads, one at a time, in the order they were asked for."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: _Load[Any] | None = None
        self._waiting: deque[_Load[Any]] = deque()

    def join(self, load: _Load[Any]) -> None:
        with self._lock:
            start = self._current is None
            if start:
                self._current = load
            else:
                self._waiting.append(load)
        if start:
            load.start()

    def leave(self, load: _Load[Any]) -> None:
        with self._lock:
            if load in self._waiting:
                self._waiting.remove(load)
                return
            if self._current is not load:
                return
            self._current = following = self._waiting.popleft() if self._waiting else None
        if following is not None:
            following.start()


_LINE = _Line()


def _interrupt(ident: int) -> None:
    # CPython only; elsewhere an abandoned thread runs on until it ends by itself.
    try:
        import ctypes

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return
    set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(_Abandoned))


def _forget_imports(ident: int) -> None:
    # An abandoned thread holds the import lock of each module it is in the middle of importing, and it
    # may hold them for good (blocked in C). A later load importing one of them (the fixed helpers.py)
    # would wait on that lock, and time out in turn. So those locks are forgotten, and a fresh one made
    # at the next import, and the half-initialized modules dropped. This reads importlib's own table of
    # module locks, CPython's since 3.3; where it differs, nothing is forgotten.
    try:
        import _imp
        from importlib import _bootstrap

        locks: dict[str, Any] = getattr(_bootstrap, "_module_locks")  # noqa: B009 (not in the stubs)
    except (ImportError, AttributeError):
        return
    _imp.acquire_lock()
    try:
        for name, ref in list(locks.items()):
            lock = ref()
            if lock is not None and getattr(lock, "owner", None) == ident:
                del locks[name]
                sys.modules.pop(name, None)
    finally:
        _imp.release_lock()
