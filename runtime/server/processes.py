"""``workerhost dev --workers N``: N server processes on one listening socket, sharing the KV files.

The parent binds the socket, then forks the processes that serve; each runs the whole host (its own
store, writer thread and event loop) on the inherited socket, and the kernel spreads connections over
them. SQLite in WAL mode lets the processes read and write the same files, and every read cache is
checked against the file, so a write made through one process is seen at once through the others.
Hot reload is off: this is a served mode for load tests, not the edit loop.

* The first process starts alone: it creates the namespaces kv.yaml declares, and a broken config or
  script is reported once, as the single-process server reports it. The others start after it.
* Only the first runs cron triggers, so a cron fires once, not once per process.
* Ctrl-C (or SIGTERM) reaches the parent, which asks each process to stop gracefully (SIGTERM); a
  second Ctrl-C makes them stop at once. The processes live in their own process group, so a
  terminal's Ctrl-C is not delivered twice, and each watches a pipe from the parent, so they stop
  if the parent is killed outright.
* A process that exits on its own stops the others, and ``workerhost dev`` exits with an error.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from types import FrameType
from typing import NoReturn

from ..config import RuntimeConfig
from ..errors import StartupError, WorkerhostError

__all__ = ["ServeOne", "serve_processes"]

logger = logging.getLogger("workerhost")

# Serves one process until it is stopped: (config, run crons?, called with the banner once listening).
ServeOne = Callable[[RuntimeConfig, bool, Callable[[str], None]], None]


def serve_processes(config: RuntimeConfig, serve_one: ServeOne, banner: bool = True) -> None:
    """Fork ``config.processes`` processes that each call ``serve_one``; return once all have stopped.

    Raises:
        StartupError: a process could not start (the message is the one the single server gives).
        WorkerhostError: a process exited while the others were serving.
    """
    if not hasattr(os, "fork"):
        raise StartupError("--workers needs os.fork(), which this platform lacks; run without --workers")
    _Supervisor(replace(config, reload=False), serve_one).run(banner)


class _Supervisor:
    def __init__(self, config: RuntimeConfig, serve_one: ServeOne) -> None:
        self.config = config
        self.serve_one = serve_one
        self.children: dict[int, int] = {}  # pid -> process number
        self.stopping = False
        self.failure: str | None = None
        self.lifeline_read, self.lifeline_write = os.pipe()  # EOF in the children once we are gone

    def run(self, banner: bool) -> None:
        handlers = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            text = self._start(0)
            for number in range(1, self.config.processes):
                if self.stopping:
                    break
                self._start(number)
            if banner and text and not self.stopping:
                print(text, flush=True)
            self._wait()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            os.close(self.lifeline_read)
            os.close(self.lifeline_write)
        if self.failure is not None:
            raise WorkerhostError(self.failure)

    # --- starting ------------------------------------------------------------------------------------

    def _start(self, number: int) -> str:
        """Fork process ``number`` and wait until it serves; returns its banner."""
        report_read, report_write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(report_read)
            self._child(number, report_write)
        os.close(report_write)
        self.children[pid] = number
        with os.fdopen(report_read, "rb") as report:
            line = report.readline()  # blocks until the process serves, fails, or exits
        message = json.loads(line) if line else {}
        if "error" in message:
            self._stop_children(signal.SIGTERM)
            self.stopping = True
            self._wait()
            raise StartupError(message["error"])
        if not line and not self.stopping:
            self.failure = f"worker process {number} exited while starting"
            self._stop_children(signal.SIGTERM)
            self.stopping = True
        return str(message.get("ready", ""))

    def _child(self, number: int, report: int) -> NoReturn:
        code = 0
        try:
            os.setpgid(0, 0)  # a terminal's Ctrl-C goes to the parent alone, which passes it on once
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.close(self.lifeline_write)
            _stop_when_orphaned(self.lifeline_read)

            def started(banner: str) -> None:
                os.write(report, json.dumps({"ready": banner}).encode() + b"\n")

            self.serve_one(self.config, number == 0, started)
        except WorkerhostError as exc:
            os.write(report, json.dumps({"error": str(exc)}).encode() + b"\n")
            code = 1
        except KeyboardInterrupt:
            pass
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)  # never return into the parent's code

    # --- running and stopping ------------------------------------------------------------------------

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            self._stop_children(signal.SIGTERM)  # graceful: in-flight requests and wait_until work finish
        else:
            self._stop_children(signal.SIGINT)  # a second Ctrl-C: uvicorn's immediate exit

    def _stop_children(self, sig: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _wait(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            number = self.children.pop(pid, None)
            if number is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            self.failure = f"worker process {number} exited with status {code}; the others were stopped"
            logger.error("%s", self.failure)
            self.stopping = True
            self._stop_children(signal.SIGTERM)


def _stop_when_orphaned(lifeline: int) -> None:
    """Stop this process gracefully once the parent is gone (its end of the pipe closes)."""

    def watch() -> None:
        try:
            while os.read(lifeline, 1):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="workerhost-parent-watch", daemon=True).start()
