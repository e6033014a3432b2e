"""Row ``redis``: the same host on Redis and on SQLite, in the same run: get, put, list, and a REST bulk of 10,000.

Two ``workerhost dev`` serve the bench handler: one on SQLite files (the default), one with
``WORKERHOST_STORAGE`` naming a local ``redis-server`` run with the durable settings workerhost asks for
(``appendonly yes``, ``appendfsync always``, ``maxmemory-policy noeviction``), so both acknowledge a
write only once it is on disk. Both are seeded the same way; the ``/read``, ``/write`` and ``/list``
routes run under the same load, interleaved; then one REST bulk write of ``bulk_pairs`` pairs per
round goes to each. Redis here is on loopback: over a network each call also pays the round trip.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from runtime.config import DEFAULT_ACCOUNT_ID

from ..dataset import value_for
from ..load import Target, interleaved
from ..peers import workerhost
from ..procs import Server, free_port
from ..report import Row, Series, ratio
from ..tools import ToolMissingError, ensure_redis
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("redis",)
OPERATIONS = {"get": "/read", "put": "/write", "list": "/list"}
ENGINES = ("SQLite", "Redis")


@contextlib.contextmanager
def _redis_server(ctx: Context) -> Iterator[str]:
    """A durable redis-server on a free loopback port, in scratch; yields its store location."""
    binary = ensure_redis(ctx.settings.install)
    folder = ctx.folder("redis")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""]
    command += ["--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"]
    with open(ctx.logs / "redis-server.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        cli = shutil.which("redis-cli")
        if cli is None:
            raise ToolMissingError("redis-cli is not installed (apt-get install redis-server)")
        deadline = time.monotonic() + 30
        while subprocess.run([cli, "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {ctx.logs / 'redis-server.log'}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0?prefix=bench"
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    row = Row(
        "redis",
        f"the same host on Redis (local, appendfsync always) vs SQLite: get, put, list, REST bulk of "
        f"{ctx.settings.bulk_pairs:,}",
        "reported, side by side (Redis adds a network round trip per call)",
    )
    with _redis_server(ctx) as location:
        hosts = {
            "SQLite": workerhost.server("workerhost-sqlite", _project(ctx, "sqlite"), ctx.port(), ctx.logs),
            "Redis": workerhost.server(
                "workerhost-redis", _project(ctx, "redis"), ctx.port(), ctx.logs, env={"WORKERHOST_STORAGE": location}
            ),
        }
        with ctx.started(*hosts.values()):
            for host in hosts.values():
                _seed(host)
            for operation, path in OPERATIONS.items():
                targets = {name: Target(host.ready_url.replace("/hello", path), host) for name, host in hosts.items()}
                results = interleaved(targets, ctx.settings)
                figures = {}
                for engine, rounds in results.items():
                    line, figures[engine] = load_lines(f"{operation} {engine}", rounds)
                    row.lines.append(line)
                    row.data[f"{operation}-{engine}"] = [result.to_json() for result in rounds]
                p50 = ratio(figures["Redis"]["p50"], figures["SQLite"]["p50"])
                if p50 is not None:
                    row.notes.append(f"{operation}: Redis p50 is {p50:.2f}× SQLite's")
            bulk = {engine: _bulk(ctx, host) for engine, host in hosts.items()}
    for engine, series in bulk.items():
        row.lines.append(f"REST bulk of {ctx.settings.bulk_pairs:,} on {engine}: {series.show('keys/s')}")
        row.data[f"bulk-{engine}"] = series
    return [row]


def _project(ctx: Context, name: str) -> Path:
    return workerhost.write_project(ctx.folder(f"engine-{name}"))


def _seed(host: Server) -> None:
    with httpx.Client(timeout=120) as client:
        answer = client.get(host.ready_url.replace("/hello", "/seed"))
    if answer.status_code != 200:
        raise RuntimeError(f"seeding {host.name} failed: {answer.status_code} {answer.text[:200]}")


def _bulk(ctx: Context, host: Server) -> Series:
    count = ctx.settings.bulk_pairs
    body = json.dumps([{"key": f"bulk:{i:07}", "value": value_for(i)} for i in range(count)]).encode()
    base = host.ready_url.removesuffix("/hello") + "/client/v4"
    rates = []
    with httpx.Client(base_url=base, timeout=300) as client:
        namespaces = client.get(f"/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces").json()["result"]
        namespace = next(item["id"] for item in namespaces if item["title"] == "bench")
        path = f"/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{namespace}/bulk"
        for _ in range(ctx.settings.rounds):
            started = time.perf_counter()
            answer = client.put(path, content=body, headers={"content-type": "application/json"})
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or not answer.json()["success"]:
                raise RuntimeError(f"bulk write to {host.name} failed: {answer.status_code} {answer.text[:300]}")
            rates.append(count / elapsed)
    return Series(rates)
