"""Rows ``bulk-rest`` and ``bulk-cli``: writing 10,000 pairs at once.

* over REST: one ``PUT .../bulk`` of all the pairs to ``workerhost dev``, next to the same number of
  single puts through the write handler (64 connections, ``bench.client``);
* from the command line: ``workerhost kv bulk put`` against ``wrangler kv bulk put --local`` on the
  same wrangler-format file, each into a fresh store, timed from spawn to exit. wrangler runs offline
  in a network namespace. A command that does not exist in this checkout makes its side "not available".
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bindings import SqliteStore
from runtime.config import DEFAULT_ACCOUNT_ID

from ..dataset import value_for
from ..peers import workerhost, wrangler
from ..procs import Server
from ..report import Check, Row, Series, ratio
from ..settings import REPO
from ..tools import ToolMissingError
from . import Context

__all__ = ["KEYS", "run"]

KEYS = ("bulk-rest", "bulk-cli")
NAMESPACE_ID = "cccccccccccccccccccccccccccccccc"


def run(ctx: Context, keys: set[str]) -> list[Row]:
    pairs = [{"key": f"bulk:{i:07}", "value": value_for(i)} for i in range(ctx.settings.bulk_pairs)]
    rows = []
    if "bulk-rest" in keys:
        rows.append(_rest_row(ctx, pairs))
    if "bulk-cli" in keys:
        rows.append(_cli_row(ctx, pairs))
    return rows


# --- over REST ------------------------------------------------------------------------------------


def _rest_row(ctx: Context, pairs: list[dict[str, str]]) -> Row:
    count = len(pairs)
    row = Row("bulk-rest", f"bulk write of {count:,} pairs over REST", "keys/s, reported next to single handler puts")
    project = workerhost.write_project(ctx.folder("bulk-rest"))
    host = workerhost.server("workerhost-bulk", project, ctx.port(), ctx.logs)
    base = host.ready_url.removesuffix("/hello")
    with ctx.started(host), httpx.Client(base_url=f"{base}/client/v4", timeout=120) as client:
        namespaces = client.get(f"/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces").json()["result"]
        namespace = next(item["id"] for item in namespaces if item["title"] == "bench")
        bulk_path = f"/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces/{namespace}/bulk"
        body = json.dumps(pairs).encode()
        bulk, single, bulk_cpu, single_cpu = [], [], [], []
        for _ in range(ctx.settings.rounds):
            cpu = host.cpu_seconds()
            started = time.perf_counter()
            answer = client.put(bulk_path, content=body, headers={"content-type": "application/json"})
            elapsed = time.perf_counter() - started
            bulk_cpu.append(_per_key(host, cpu, count))
            if answer.status_code != 200 or not answer.json()["success"]:
                raise RuntimeError(f"bulk write failed: {answer.status_code} {answer.text[:300]}")
            bulk.append(count / elapsed)
            cpu = host.cpu_seconds()
            single.append(_single_puts(f"{base}/write", count, ctx.settings.connections))
            single_cpu.append(_per_key(host, cpu, count))
    bulk_series, single_series = Series(bulk), Series(single)
    row.lines.append(f"REST bulk (one request of {count:,}): {bulk_series.show('keys/s')}{_cpu(bulk_cpu)}")
    row.lines.append(
        f"{count:,} single handler puts ({ctx.settings.connections} connections): {single_series.show('keys/s')}"
        + _cpu(single_cpu)
    )
    row.data = {"bulk_keys_per_s": bulk_series, "single_keys_per_s": single_series}
    if None not in bulk_cpu + single_cpu:
        row.data["bulk_cpu_us_per_key"] = Series([value for value in bulk_cpu if value is not None])
        row.data["single_cpu_us_per_key"] = Series([value for value in single_cpu if value is not None])
    row.notes.append(f"bulk is {ratio(bulk_series, single_series):.1f}× the single puts' rate")
    return row


def _per_key(host: Server, before: float | None, count: int) -> float | None:
    """The host's CPU microseconds per key since ``before`` (its CPU seconds then)."""
    after = host.cpu_seconds()
    return None if before is None or after is None else (after - before) / count * 1e6


def _cpu(values: list[float | None]) -> str:
    known = [value for value in values if value is not None]
    return f"; CPU {Series(known).show('µs/key')}" if known and len(known) == len(values) else ""


def _single_puts(url: str, count: int, connections: int) -> float:
    command = [sys.executable, "-m", "bench.client", url, "--connections", str(connections), "--requests", str(count)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    result = json.loads(done.stdout)
    if result["failed"]:
        raise RuntimeError(f"{result['failed']} single puts failed")
    return float(result["requests"]) / float(result["seconds"])


# --- from the command line -------------------------------------------------------------------------


def _cli_row(ctx: Context, pairs: list[dict[str, str]]) -> Row:
    count = len(pairs)
    row = Row(
        "bulk-cli",
        f"`workerhost kv bulk put` of {count:,} pairs vs `wrangler kv bulk put --local`, same file",
        "≥ 40× faster",
    )
    file = ctx.folder("bulk-cli") / "pairs.json"
    file.write_text(json.dumps(pairs), encoding="utf-8")
    ours = _workerhost_times(ctx, file)
    theirs = _wrangler_times(ctx, file)
    for name, result in (("workerhost kv bulk put", ours), ("wrangler kv bulk put --local", theirs)):
        if isinstance(result, str):
            row.lines.append(f"{name}: not available ({result})")
        else:
            row.lines.append(f"{name}: {result.show('s', 2)}")
            row.data[name] = result
    speedup = ratio(theirs, ours) if not isinstance(ours, str) and not isinstance(theirs, str) else None
    row.checks.append(Check("wrangler time / workerhost time", speedup, 40.0, True))
    return row


def _workerhost_available() -> bool:
    command = workerhost.cli_command("kv", "bulk", "put", "--help")
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=workerhost.full_environment())
    return done.returncode == 0


async def _create_namespace(persist_to: Path) -> None:
    store = SqliteStore(persist_to)
    try:
        await store.create_namespace("bench", NAMESPACE_ID)
    finally:
        await store.close()


def _workerhost_times(ctx: Context, file: Path) -> Series | str:
    if not _workerhost_available():
        return "`workerhost kv bulk put` does not exist in this checkout"
    times = []
    for _ in range(ctx.settings.rounds):
        persist_to = ctx.folder("bulk-cli-store")
        asyncio.run(_create_namespace(persist_to))
        args = ("kv", "bulk", "put", "--persist-to", str(persist_to), "--namespace-id", NAMESPACE_ID, str(file))
        times.append(_timed(workerhost.cli_command(*args), persist_to, workerhost.full_environment()))
    return Series(times)


def _wrangler_times(ctx: Context, file: Path) -> Series | str:
    try:
        tools, netns = ctx.node(), ctx.netns()
    except ToolMissingError as exc:
        return str(exc)
    times = []
    for index in range(ctx.settings.wrangler_bulk_rounds):
        project = wrangler.write_project(tools, f"bulk-{index}")
        command = [*netns, *wrangler.bulk_put_command(tools, file)]
        times.append(_timed(command, project, {**os.environ, **wrangler.ENVIRONMENT}))
    return Series(times)


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=900)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[-6:])} failed ({done.returncode}):\n{done.stderr[-1500:]}")
    return elapsed
