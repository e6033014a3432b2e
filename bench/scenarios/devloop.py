"""Rows ``reload``, ``reload-load`` and ``cold-start``: the edit–reload loop, timed by ``bench.probe``.

workerhost (``workerhost dev`` with hot reload, as users run it) and ``wrangler dev`` (in a network
namespace, probe and all) each get: cold starts from spawn to first response, then saves of the script
with a new ``VERSION`` until the new code answers, then the same saves under steady wrk load, counting
failed requests. The bare Starlette app's cold start is shown as the floor of the stack. Cold starts take turns
across the peers, one each per round, so a noisy moment does not fall on one peer only.
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
    peers: dict[str, tuple[dict[str, Any], list[str] | None] | str] = {"workerhost": (_workerhost_spec(ctx), None)}
    try:
        peers["wrangler"] = (_wrangler_spec(ctx), ctx.netns())
    except ToolMissingError as exc:
        peers["wrangler"] = str(exc)
    if "cold-start" in keys:
        peers["bare"] = (_bare_spec(ctx), None)
    cold = _cold_starts(ctx, peers) if "cold-start" in keys else {}
    reloaded: dict[str, dict[str, Any] | str] = {}
    if keys & {"reload", "reload-load"}:
        for name in ("workerhost", "wrangler"):
            peer = peers[name]
            if isinstance(peer, str):
                reloaded[name] = peer
                continue
            spec, prefix = peer
            under_load = "reload-load" in keys and (name == "workerhost" or not ctx.settings.smoke)
            reload = _reload_spec(ctx, spec, under_load, gap=0.2 if name == "workerhost" else 0.5)
            reloaded[name] = _probe(ctx, {**spec, "cold_starts": 0, "reload": reload}, prefix)
    rows = []
    if "reload" in keys:
        rows.append(_reload_row(ctx, reloaded["workerhost"], reloaded["wrangler"]))  # type: ignore[arg-type]
    if "reload-load" in keys:
        rows.append(_reload_load_row(ctx, reloaded["workerhost"], reloaded["wrangler"]))  # type: ignore[arg-type]
    if "cold-start" in keys:
        rows.append(_cold_start_row(cold))
    return rows


def _cold_starts(
    ctx: Context, peers: dict[str, tuple[dict[str, Any], list[str] | None] | str]
) -> dict[str, list[float] | str]:
    """One timed start per peer per round, peers in turn; the first round also warms each peer up untimed."""
    times: dict[str, list[float] | str] = {name: peer if isinstance(peer, str) else [] for name, peer in peers.items()}
    for round_number in range(ctx.settings.cold_starts):
        for name, peer in peers.items():
            if isinstance(peer, str):
                continue
            spec, prefix = peer
            warm = round_number == 0 and not ctx.settings.smoke
            result = _probe(ctx, {**spec, "cold_starts": 1, "warm_start": warm}, prefix)
            times[name] += result["cold_start_s"]  # type: ignore[operator]
    return times


# --- specs and running the probe -------------------------------------------------------------------


def _reload_spec(ctx: Context, spec: dict[str, Any], under_load: bool, gap: float) -> dict[str, Any]:
    settings = ctx.settings
    base = spec["ready_url"].removesuffix("/hello")
    reload: dict[str, Any] = {
        "file": spec["script"],
        "version_url": f"{base}/version",
        "saves": settings.saves,
        "gap": gap,
    }
    if under_load:
        reload["load"] = {
            "url": f"{base}/read",
            "smoke": settings.smoke,
            "threads": settings.threads,
            "connections": settings.connections,
            "settle": 0.2 if settings.smoke else 1.0,
        }
    return reload


def _workerhost_spec(ctx: Context) -> dict[str, Any]:
    project = workerhost.write_project(ctx.folder("devloop-workerhost"))
    port = ctx.port()
    return {
        "name": "workerhost",
        "command": workerhost.dev_command(project, port),
        "cwd": str(project.parent),
        "env": workerhost.environment(),
        "ready_url": f"http://127.0.0.1:{port}/hello",
        "script": str(project.parent / "worker.py"),
        "logs": str(ctx.logs),
    }


def _wrangler_spec(ctx: Context) -> dict[str, Any]:
    tools = ctx.node()
    project = wrangler.write_project(tools, "devloop")
    port = ctx.port()
    return {
        "name": "wrangler-dev",
        "command": wrangler.dev_command(tools, port),
        "cwd": str(project),
        "env": wrangler.ENVIRONMENT,
        "ready_url": f"http://127.0.0.1:{port}/hello",
        "script": str(project / "worker.mjs"),
        "logs": str(ctx.logs),
    }


def _bare_spec(ctx: Context) -> dict[str, Any]:
    port = ctx.port()
    server = bare.server(port, ctx.logs)
    return {
        "name": "bare",
        "command": server.command,
        "cwd": str(REPO),
        "env": bare.ENVIRONMENT,
        "ready_url": server.ready_url,
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
        cpu = load.get("cpu_us_per_request")
        row.lines.append(
            f"{name}: {load['failed']} failed of {load['requests']:,} requests "
            f"({load['requests'] / load['seconds']:,.0f} req/s"
            + ("" if cpu is None else f", CPU {cpu:,.0f} µs/request with the reloads")
            + f"); reload p50 under load {statistics.median(under['reload_ms']):.1f} ms"
        )
        row.data[name] = under
    row.checks.append(Check("workerhost failed requests", float(ours["under_load"]["load"]["failed"]), 0, False, ""))
    return row


def _cold_start_row(times: dict[str, list[float] | str]) -> Row:
    row = Row("cold-start", "`workerhost dev` cold start to first response", "≤ 1/5 of `wrangler dev`'s, same run")
    found: dict[str, Series] = {}
    for name, label in (
        ("workerhost", "workerhost dev"),
        ("wrangler", "wrangler dev"),
        ("bare", "bare Starlette/uvicorn (the floor)"),
    ):
        result = times.get(name)
        if isinstance(result, str):
            row.lines.append(f"{label}: not available ({result})")
        elif result:
            found[name] = Series(result)
            row.lines.append(f"{label}: {found[name].show('s', 3)}")
            row.data[name] = found[name]
    speedup = ratio(found.get("workerhost"), found.get("wrangler"))
    row.checks.append(Check("workerhost / wrangler", speedup, COLD_START_RATIO, False))
    row.notes.append("peers take turns, one start each per round; a first untimed start warms each up")
    return row
