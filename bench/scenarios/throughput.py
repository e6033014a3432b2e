"""Rows ``read``, ``write`` and ``list``: a handler route under wrk, workerhost against Miniflare (and bare Starlette).

workerhost runs as ``workerhost dev`` does by default (hot reload on); the bare Starlette app is the
ceiling of the stack for the read row. Both KV peers are seeded the same way first, through their own
handler (``/seed``: a hot key and 1000 keys under ``p:``).
"""

from __future__ import annotations

from ..load import Target, interleaved
from ..peers import bare, miniflare, workerhost
from ..procs import Server, get
from ..report import Check, Row, ratio
from ..tools import ToolMissingError
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("read", "write", "list")

_ROWS = {
    "read": (
        "handler that reads one hot key (env.KV.get)",
        "≥ 0.6× bare Starlette hello-world req/s; p99 ≤ 2× bare's p99; ≥ 6× Miniflare's req/s",
    ),
    "write": ("handler that writes one key (acknowledged after commit)", "≥ 10× Miniflare's req/s"),
    "list": ("handler that lists a 1000-key page with a prefix", "≥ 5× Miniflare's req/s"),
}


def _miniflare(ctx: Context) -> tuple[Server | None, str | None]:
    try:
        tools = ctx.node()
    except ToolMissingError as exc:
        return None, str(exc)
    return miniflare.server(tools, ctx.port(), ctx.folder("miniflare"), ctx.logs), None


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    project = workerhost.write_project(ctx.folder("workerhost"))
    host = workerhost.server("workerhost", project, ctx.port(), ctx.logs)
    mini, missing = _miniflare(ctx)
    ceiling = bare.server(ctx.port(), ctx.logs) if "read" in keys else None
    servers = [server for server in (host, mini, ceiling) if server is not None]
    with ctx.started(*servers):
        for server in (host, mini):
            if server is not None:
                _seed(server)
        return [_row(ctx, key, host, mini, ceiling, missing) for key in KEYS if key in keys]


def _seed(server: Server) -> None:
    status, body = get(server.ready_url.replace("/hello", "/seed"), timeout=120)
    if status != 200:
        raise RuntimeError(f"seeding {server.name} failed: {status} {body[:200]!r}")


def _row(ctx: Context, key: str, host: Server, mini: Server | None, ceiling: Server | None, missing: str | None) -> Row:
    what, target = _ROWS[key]
    path = f"/{key}"
    targets = {"workerhost": Target(host.ready_url.replace("/hello", path), host)}
    if mini is not None:
        targets["Miniflare"] = Target(mini.ready_url.replace("/hello", path), mini)
    if key == "read" and ceiling is not None:
        targets["bare Starlette"] = Target(ceiling.ready_url, ceiling)
    results = interleaved(targets, ctx.settings)
    row = Row(key, what, target)
    figures = {}
    for name, rounds in results.items():
        line, figures[name] = load_lines(name, rounds)
        row.lines.append(line)
        row.data[name] = [result.to_json() for result in rounds]
    ours, theirs = figures["workerhost"], figures.get("Miniflare", {})
    if key == "read":
        ceiling_figures = figures.get("bare Starlette", {})
        row.checks.append(Check("req/s vs bare", ratio(ours["rps"], ceiling_figures.get("rps")), 0.6, True))
        row.checks.append(Check("p99 vs bare", ratio(ours["p99"], ceiling_figures.get("p99")), 2.0, False))
    bound = {"read": 6.0, "write": 10.0, "list": 5.0}[key]
    row.checks.append(Check("req/s vs Miniflare", ratio(ours["rps"], theirs.get("rps")), bound, True))
    if missing:
        row.notes.append(f"Miniflare not measured: {missing}")
    return row
