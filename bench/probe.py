"""Cold start and hot reload of one dev server, timed from right beside it.

    python -m bench.probe < spec.json > result.json

The spec (JSON on stdin) names the server command, its ready URL, how many cold starts to time, and
optionally a reload test: the script to rewrite, the URL that answers the script's ``VERSION``, how
many saves, and whether to run them again under steady load. It runs as a separate program so the
same code times ``wrangler dev`` inside its network namespace and workerhost outside it.

* cold start: from spawning the process to the first 200 on the ready URL (polled every 2 ms); one
  untimed start first warms the disk cache for both peers alike (``warm_start``, on by default);
* reload: from the moment the save begins (the file is rewritten in place, as editors do) to the first
  response that carries the new version (polled every millisecond over a kept-alive connection).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .load import start_wrk, stop_wrk
from .procs import group_pids, merged_environment, tree_cpu_seconds
from .settings import Settings

__all__ = ["main"]

_VERSION_LINE = re.compile(r'^((?:const )?VERSION = ")[^"]*(";?)$', re.M)  # worker.py and worker.mjs
POLL_READY = 0.002
POLL_VERSION = 0.001


def _host_port(url: str) -> tuple[str, int, str]:
    rest = url.split("://", 1)[1]
    netloc, _, path = rest.partition("/")
    host, _, port = netloc.partition(":")
    return host, int(port or 80), "/" + path


def _try_get(url: str, timeout: float = 1.0) -> tuple[int, bytes] | None:
    host, port, path = _host_port(url)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _spawn(spec: dict[str, Any], logs: Path, name: str) -> subprocess.Popen[bytes]:
    env = merged_environment(spec.get("env"))
    with open(logs / f"{name}.out", "ab") as out, open(logs / f"{name}.err", "ab") as err:
        # A process group of its own, for its CPU time under load (as ``procs.Server``).
        return subprocess.Popen(
            spec["command"], cwd=spec.get("cwd"), env=env, stdout=out, stderr=err, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_timed(spec: dict[str, Any], logs: Path, timeout: float = 120.0) -> tuple[subprocess.Popen[bytes], float]:
    started = time.perf_counter()
    process = _spawn(spec, logs, spec["name"])
    while True:
        answer = _try_get(spec["ready_url"])
        if answer is not None and answer[0] == 200:
            return process, time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"{spec['name']} exited with {process.returncode} while starting; see {logs}")
        if time.perf_counter() - started > timeout:
            _stop(process)
            raise RuntimeError(f"{spec['name']} did not answer within {timeout}s; see {logs}")
        time.sleep(POLL_READY)


class _VersionPoller:
    """Asks for the served version over one kept-alive connection, reconnecting when it drops."""

    def __init__(self, url: str) -> None:
        self.host, self.port, self.path = _host_port(url)
        self.connection: http.client.HTTPConnection | None = None

    def version(self) -> str | None:
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
            self.connection.request("GET", self.path)
            response = self.connection.getresponse()
            body = response.read()
            return body.decode() if response.status == 200 else None
        except (OSError, http.client.HTTPException):
            self.close()
            return None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


def _save(path: Path, source: str, version: str) -> None:
    text = _VERSION_LINE.sub(lambda match: match.group(1) + version + match.group(2), source)
    with open(path, "w", encoding="utf-8") as file:  # in place, as editors save
        file.write(text)


def _reloads(reload: dict[str, Any], tag: str) -> list[float]:
    """Save the script ``saves`` times; return each save-to-served time in ms."""
    path = Path(reload["file"])
    source = path.read_text(encoding="utf-8")
    poller = _VersionPoller(reload["version_url"])
    times = []
    try:
        for n in range(reload["saves"]):
            version = f"{tag}{n}-{time.time_ns()}"
            started = time.perf_counter()
            _save(path, source, version)
            while poller.version() != version:
                if time.perf_counter() - started > reload.get("timeout", 60):
                    raise RuntimeError(f"save {n}: the new code was not served within {reload.get('timeout', 60)}s")
                time.sleep(POLL_VERSION)
            times.append((time.perf_counter() - started) * 1000)
            time.sleep(reload.get("gap", 0.2))
    finally:
        poller.close()
    return times


def _under_load(reload: dict[str, Any], server: subprocess.Popen[bytes]) -> dict[str, Any]:
    load = reload["load"]
    settings = Settings(smoke=load["smoke"], threads=load["threads"], connections=load["connections"])
    wrk = start_wrk(load["url"], settings)
    cpu = tree_cpu_seconds(group_pids(server.pid))
    try:
        time.sleep(load.get("settle", 1.0))
        times = _reloads(reload, "load")
        time.sleep(load.get("settle", 1.0))
    finally:
        after = tree_cpu_seconds(group_pids(server.pid))
        result = stop_wrk(wrk, settings)
    if cpu is not None and after is not None:
        result = replace(result, cpu_seconds=after - cpu)
    return {"reload_ms": times, "load": result.to_json()}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Time the cold starts, then the reloads (quiet, then under load) on the last started server."""
    logs = Path(spec["logs"])
    logs.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"cold_start_s": []}
    process, seconds = _start_timed(spec, logs)
    if not spec.get("warm_start", True):  # the caller warmed up already, or a smoke run saves the time
        result["cold_start_s"].append(seconds)
    try:
        for _ in range(spec.get("cold_starts", 0) - len(result["cold_start_s"])):
            _stop(process)
            process, seconds = _start_timed(spec, logs)
            result["cold_start_s"].append(seconds)
        reload = spec.get("reload")
        if reload:
            result["reload_ms"] = _reloads(reload, "v")
            if reload.get("load"):
                result["under_load"] = _under_load(reload, process)
    finally:
        _stop(process)
    return result


def main() -> int:
    spec = json.load(sys.stdin)
    try:
        result = run(spec)
    except Exception as exc:  # reported to the harness, which shows it in the row
        result = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
