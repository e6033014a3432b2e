"""Rows ``reload``, ``reload-load`` and ``cold-start``: the edit–reload loop, timed by ``bench.probe``.

workerhost (``workerhost dev`` with hot reload, as users run it) and ``wrangler dev`` (in a network
namespace, probe and all) each get: cold starts from spawn to first response, then saves of the script
with a new ``VERSION`` until the new code answers, then the same saves under steady wrk load, counting
failed requests. The bare Starlette app's cold start is shown as the floor of the stack.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

from ..peers import bare, workerhost, wrangler
from ..report import Check, Row, Series, ratio
from ..settings import REPO
from ..tools import ToolMissingError
from . import Context

__all__ = ["KEYS", "run"]

KEYS = ("reload", "reload-load", "cold-start")
RELOAD_P50_MS = 50.0
COLD_START_RATIO = 0.2


def run(ctx: Context, keys: set[str]) -> list[Row]:
    if "reload-load" in keys:
        ctx.check_load_tool()
    reloads = bool(keys & {"reload", "reload-load"})
    ours = _probe(ctx, _workerhost_spec(ctx, reloads, "reload-load" in keys))
    theirs: dict[str, Any] | str
    try:
        theirs = _probe(ctx, _wrangler_spec(ctx, reloads, "reload-load" in keys), ctx.netns())
    except ToolMissingError as exc:
        theirs = str(exc)
    floor = _probe(ctx, _bare_spec(ctx)) if "cold-start" in keys else None
    rows = []
    if "reload" in keys:
        rows.append(_reload_row(ctx, ours, theirs))
    if "reload-load" in keys:
        rows.append(_reload_load_row(ctx, ours, theirs))
    if "cold-start" in keys:
        rows.append(_cold_start_row(ours, theirs, floor))
    return rows


# --- specs and running the probe -------------------------------------------------------------------


def _reload_spec(ctx: Context, file: str, base: str, under_load: bool, gap: float) -> dict[str, Any]:
    settings = ctx.settings
    spec: dict[str, Any] = {"file": file, "version_url": f"{base}/version", "saves": settings.saves, "gap": gap}
    if under_load:
        spec["load"] = {
            "url": f"{base}/read",
            "smoke": settings.smoke,
            "threads": settings.threads,
            "connections": settings.connections,
            "settle": 0.2 if settings.smoke else 1.0,
        }
    return spec


def _workerhost_spec(ctx: Context, reloads: bool, under_load: bool) -> dict[str, Any]:
    project = workerhost.write_project(ctx.folder("devloop-workerhost"))
    port = ctx.port()
    base = f"http://127.0.0.1:{port}"
    spec: dict[str, Any] = {
        "name": "workerhost",
        "command": workerhost.dev_command(project, port),
        "cwd": str(project.parent),
        "env": workerhost.environment(),
        "ready_url": f"{base}/hello",
        "cold_starts": ctx.settings.cold_starts,
        "warm_start": not ctx.settings.smoke,
        "logs": str(ctx.logs),
    }
    if reloads:
        spec["reload"] = _reload_spec(ctx, str(project.parent / "worker.py"), base, under_load, gap=0.2)
    return spec


def _wrangler_spec(ctx: Context, reloads: bool, under_load: bool) -> dict[str, Any]:
    tools = ctx.node()
    project = wrangler.write_project(tools, "devloop")
    port = ctx.port()
    base = f"http://127.0.0.1:{port}"
    spec: dict[str, Any] = {
        "name": "wrangler-dev",
        "command": wrangler.dev_command(tools, port),
        "cwd": str(project),
        "env": wrangler.ENVIRONMENT,
        "ready_url": f"{base}/hello",
        "cold_starts": ctx.settings.cold_starts,
        "warm_start": not ctx.settings.smoke,
        "logs": str(ctx.logs),
    }
    if reloads:  # under load too, but not in smoke runs: it is there for comparison only, and slow
        spec["reload"] = _reload_spec(
            ctx, str(project / "worker.mjs"), base, under_load and not ctx.settings.smoke, 0.5
        )
    return spec


def _bare_spec(ctx: Context) -> dict[str, Any]:
    port = ctx.port()
    server = bare.server(port, ctx.logs)
    return {
        "name": "bare",
        "command": server.command,
        "cwd": str(REPO),
        "env": {"PYTHONPATH": str(REPO)},
        "ready_url": server.ready_url,
        "cold_starts": ctx.settings.cold_starts,
        "warm_start": not ctx.settings.smoke,
        "logs": str(ctx.logs),
    }


def _probe(ctx: Context, spec: dict[str, Any], prefix: list[str] | None = None) -> dict[str, Any]:
    command = [*(prefix or []), sys.executable, "-m", "bench.probe"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, input=json.dumps(spec), capture_output=True, text=True, cwd=REPO, env=env)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the probe for {spec['name']} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    if "error" in result:
        raise RuntimeError(f"{spec['name']}: {result['error']}")
    return result


# --- rows ----------------------------------------------------------------------------------------


def _ms(values: list[float]) -> Series:
    return Series(values)


def _reload_line(name: str, times: list[float]) -> str:
    spread = f"p90 {statistics.quantiles(times, n=10)[-1]:.1f} ms, " if len(times) >= 10 else ""
    extremes = f"min {min(times):.1f}, max {max(times):.1f}"
    return f"{name}: p50 {statistics.median(times):.1f} ms ({spread}{extremes}) over {len(times)} saves"


def _reload_row(ctx: Context, ours: dict[str, Any], theirs: dict[str, Any] | str) -> Row:
    row = Row(
        "reload",
        "hot reload: from saving a script to the new code answering",
        f"p50 ≤ {RELOAD_P50_MS:g} ms over {ctx.settings.saves} saves, against wrangler dev in the same run",
    )
    row.lines.append(_reload_line("workerhost dev", ours["reload_ms"]))
    row.data["workerhost"] = ours["reload_ms"]
    ours_p50 = statistics.median(ours["reload_ms"])
    row.checks.append(Check("workerhost p50", ours_p50, RELOAD_P50_MS, False, " ms"))
    if isinstance(theirs, str):
        row.lines.append(f"wrangler dev: not available ({theirs})")
    else:
        row.lines.append(_reload_line("wrangler dev", theirs["reload_ms"]))
        row.data["wrangler"] = theirs["reload_ms"]
        row.notes.append(f"wrangler dev's p50 is {statistics.median(theirs['reload_ms']) / ours_p50:.1f}× workerhost's")
    return row


def _reload_load_row(ctx: Context, ours: dict[str, Any], theirs: dict[str, Any] | str) -> Row:
    row = Row(
        "reload-load",
        f"requests failed during those {ctx.settings.saves} reloads under steady load",
        "0",
    )
    for name, result in (("workerhost dev", ours), ("wrangler dev", theirs)):
        if isinstance(result, str):
            row.lines.append(f"{name}: not available ({result})")
            continue
        under = result.get("under_load")
        if under is None:
            row.lines.append(f"{name}: not measured in smoke runs")
            continue
        load = under["load"]
        row.lines.append(
            f"{name}: {load['failed']} failed of {load['requests']:,} requests "
            f"({load['requests'] / load['seconds']:,.0f} req/s); reload p50 under load "
            f"{statistics.median(under['reload_ms']):.1f} ms"
        )
        row.data[name] = under
    row.checks.append(Check("workerhost failed requests", float(ours["under_load"]["load"]["failed"]), 0, False, ""))
    return row


def _cold_start_row(ours: dict[str, Any], theirs: dict[str, Any] | str, floor: dict[str, Any] | None) -> Row:
    row = Row("cold-start", "`workerhost dev` cold start to first response", "≤ 1/5 of `wrangler dev`'s, same run")
    ours_series = Series(ours["cold_start_s"])
    row.lines.append(f"workerhost dev: {ours_series.show('s', 3)}")
    row.data["workerhost"] = ours_series
    theirs_series = None
    if isinstance(theirs, str):
        row.lines.append(f"wrangler dev: not available ({theirs})")
    else:
        theirs_series = Series(theirs["cold_start_s"])
        row.lines.append(f"wrangler dev: {theirs_series.show('s', 3)}")
        row.data["wrangler"] = theirs_series
    if floor is not None:
        floor_series = Series(floor["cold_start_s"])
        row.lines.append(f"bare Starlette/uvicorn (the floor): {floor_series.show('s', 3)}")
        row.data["bare"] = floor_series
    row.checks.append(Check("workerhost / wrangler", ratio(ours_series, theirs_series), COLD_START_RATIO, False))
    return row
