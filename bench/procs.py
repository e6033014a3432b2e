"""Server processes under test: start one, wait until it answers, read its CPU time and memory, stop it.

Each server leads a process group of its own, and its CPU time is read from ``/proc`` for every
process in that group and below it (Miniflare serves from a ``workerd`` child process, ``--workers``
forks), so CPU microseconds per request compare fairly across peers.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["Server", "free_port", "get", "group_pids", "merged_environment", "tree_cpu_seconds", "tree_pids"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def merged_environment(changes: Mapping[str, str | None] | None) -> dict[str, str]:
    """The current environment with ``changes`` applied; a value of None removes the variable."""
    env = dict(os.environ)
    for name, value in (changes or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET on a fresh connection: (status, body)."""
    parts = url.split("/", 3)
    host, _, port = parts[2].partition(":")
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        connection.request("GET", "/" + (parts[3] if len(parts) > 3 else ""))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        found.append((int(entry.name), int(fields[1]), int(fields[2])))
    return found


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux; just ``pid`` elsewhere)."""
    if not Path("/proc").is_dir():
        return [pid]
    return _tree(pid, _processes())


def _tree(pid: int, processes: list[tuple[int, int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, parent, _ in processes:
        children.setdefault(parent, []).append(child)
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, ()))
    return found


def group_pids(pgid: int) -> list[int]:
    """The processes of group ``pgid`` and their descendants (one that left the group still counts)."""
    if not Path("/proc").is_dir():
        return [pgid]
    processes = _processes()
    found = {pid for pid, _, group in processes if group == pgid}
    for leader in list(found):
        found.update(_tree(leader, processes))
    return sorted(found | {pgid})


def tree_cpu_seconds(pids: Sequence[int]) -> float | None:
    """User plus system CPU seconds used so far by ``pids``; None where /proc is missing."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            if not Path("/proc").is_dir():
                return None
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Server:
    """A server subprocess, its output captured to files under ``logs``.

    Args:
        name: for messages and log file names.
        command: the argv.
        ready_url: polled until it answers 200.
        cwd, env: where it runs, and changes to the environment (None removes a variable).
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        ready_url: str,
        logs: Path,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.ready_url = ready_url
        self.cwd = cwd
        self.env = merged_environment(env)
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout_path = logs / f"{name}.out"
        self.stderr_path = logs / f"{name}.err"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Server:
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            # A process group of its own, so its CPU time is that of the group (``cpu_seconds``).
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=err, cwd=self.cwd, env=self.env, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.ready_url, timeout=2)[0] == 200:
                    return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer {self.ready_url} within {timeout}s:\n{self.output()}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def cpu_seconds(self) -> float | None:
        """User plus system CPU seconds used so far by the server's process group."""
        return tree_cpu_seconds(group_pids(self.pid))

    def rss_kib(self) -> int | None:
        """Resident memory of the server process itself, now."""
        return _status_kib(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int | None:
        """The most resident memory the server process has used (VmHWM)."""
        return _status_kib(self.pid, "VmHWM")

    def output(self) -> str:
        text = []
        for path in (self.stdout_path, self.stderr_path):
            if path.exists():
                text.append(path.read_text(encoding="utf-8", errors="replace")[-4000:])
        return "\n".join(text)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int | None:
        """Stop as Ctrl-C does (the whole process tree), then kill what is left."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            pids = [pid for pid in group_pids(self.pid) if pid != self.pid]
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for pid in pids:  # orphans (workerd under Miniflare) go too
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        return self.process.returncode
