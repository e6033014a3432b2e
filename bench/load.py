"""HTTP load: wrk on loopback with ``--latency``, parsed into one ``LoadResult`` per round.

Full runs use wrk (2 threads, 64 connections by default). Smoke runs use ``bench.client``, because
wrk only measures whole seconds. Either way a failed request counts: a socket error (connect, read,
write, timeout) or a status that is not 2xx/3xx.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .procs import Server
from .settings import REPO, Settings

__all__ = ["LoadResult", "Target", "interleaved", "parse_wrk", "run_load", "start_wrk", "stop_wrk"]

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LATENCY_LINE = re.compile(r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.M)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


@dataclass(frozen=True)
class LoadResult:
    """One round of load against one URL."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # socket errors plus non-2xx/3xx responses
    cpu_seconds: float | None = None  # the server's CPU time during the round, when known

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1e6

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["rps"] = self.rps
        data["cpu_us_per_request"] = self.cpu_us_per_request
        return data


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(text: str) -> LoadResult:
    """Read wrk's summary (run with ``--latency``); raises ValueError if it is not one."""
    total = _TOTAL.search(text)
    percentiles = {match.group(1): _ms(match.group(2), match.group(3)) for match in _LATENCY_LINE.finditer(text)}
    if total is None or "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"not a wrk --latency summary:\n{text}")
    sockets = _SOCKET_ERRORS.search(text)
    non_2xx = _NON_2XX.search(text)
    failed = (sum(int(n) for n in sockets.groups()) if sockets else 0) + (int(non_2xx.group(1)) if non_2xx else 0)
    seconds = _ms(total.group(2), total.group(3)) / 1000
    return LoadResult(int(total.group(1)), seconds, percentiles["50"], percentiles["99"], failed)


def _wrk_command(url: str, settings: Settings, seconds: float) -> list[str]:
    return [
        "wrk",
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]


def _client_command(url: str, settings: Settings, seconds: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.client",
        url,
        "--connections",
        str(settings.connections),
        "--duration",
        str(seconds),
    ]


def run_load(url: str, settings: Settings, seconds: float | None = None) -> LoadResult:
    """One round of load for ``seconds`` (default: the round duration)."""
    seconds = settings.duration if seconds is None else seconds
    if settings.use_wrk:
        done = subprocess.run(_wrk_command(url, settings, seconds), capture_output=True, text=True, check=True)
        return parse_wrk(done.stdout)
    done = subprocess.run(_client_command(url, settings, seconds), capture_output=True, text=True, check=True, cwd=REPO)
    return LoadResult(**json.loads(done.stdout))


def start_wrk(url: str, settings: Settings) -> subprocess.Popen[str]:
    """Start load that runs until ``stop_wrk`` (wrk prints its summary on SIGINT)."""
    command = _wrk_command(url, settings, 3600) if settings.use_wrk else _client_command(url, settings, 3600)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)


def stop_wrk(process: subprocess.Popen[str], settings: Settings) -> LoadResult:
    """Stop load started by ``start_wrk`` and read its summary."""
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    if settings.use_wrk:
        return parse_wrk(out)
    if not out.strip():
        raise RuntimeError(f"the load client printed nothing: {err}")
    return LoadResult(**json.loads(out))


@dataclass(frozen=True)
class Target:
    """A URL to load, and the server behind it (for its CPU time)."""

    url: str
    server: Server | None = None


def interleaved(targets: Mapping[str, Target], settings: Settings) -> dict[str, list[LoadResult]]:
    """Warm up each target, then run the rounds taking the targets in turn, so noise hits all alike."""
    if settings.warmup > 0:
        for target in targets.values():
            run_load(target.url, settings, settings.warmup)
    results: dict[str, list[LoadResult]] = {name: [] for name in targets}
    for _ in range(settings.rounds):
        for name, target in targets.items():
            before = target.server.cpu_seconds() if target.server else None
            result = run_load(target.url, settings)
            after = target.server.cpu_seconds() if target.server else None
            if before is not None and after is not None:
                result = replace(result, cpu_seconds=after - before)
            results[name].append(result)
    return results
