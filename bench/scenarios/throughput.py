"""Rows ``read``, ``write``, ``list`` and the handler styles: a handler route under wrk, workerhost against
Miniflare and bare Starlette.

workerhost runs as ``workerhost dev`` does by default (hot reload on). The read row and the style rows
each do one get of a hot key; they differ only in how the handler reads the request and builds its
response, one row per way the README documents. Each is measured against a bare Starlette hello-world
served by plain ``uvicorn.run`` (what a user's own uvicorn app does; the targets' baseline) and by
workerhost's own serving code (shown, the ceiling of this stack), and against Miniflare's same get.
Both KV peers are seeded the same way first, through their own handler (``/seed``: a hot key and 1000
keys under ``p:``).
"""

from __future__ import annotations

from ..load import Target, interleaved
from ..peers import bare, miniflare, workerhost
from ..procs import Server, get
from ..report import Check, Row, ratio
from ..tools import ToolMissingError
from . import Context, load_lines

__all__ = ["KEYS", "STYLES", "run"]

_GET_TARGET = (
    "CPU per request ≤ 1.25× bare Starlette hello-world's on plain uvicorn; p99 ≤ 1.2× bare's; ≥ 8× Miniflare's req/s"
)

# key: (what, path on workerhost); Miniflare serves every one of them as its /read.
STYLES = {
    "read": ("handler that reads one hot key (env.KV.get): module fetch, request.url, workers.Response", "/read"),
    "style-json": ("the same get, answered with Response.json", "/style/json"),
    "style-starlette-text": ("the same get, answered with Starlette's PlainTextResponse", "/style/starlette-text"),
    "style-starlette-json": ("the same get, answered with Starlette's JSONResponse", "/style/starlette-json"),
    "style-query": ("the same get, its key read with request.query_params", "/style/query?key=hot"),
    "style-headers": ("the same get, its key looked up in request.headers", "/style/headers"),
    "style-entrypoint": (
        "the same get in a WorkerEntrypoint: urlparse(request.url), parse_qs, workers.Response",
        "/entry/read?key=hot",
    ),
}
_OTHERS = {
    "write": ("handler that writes one key (acknowledged after commit)", "≥ 12× Miniflare's req/s", 12.0),
    "list": ("handler that lists a 1000-key page with a prefix", "≥ 5× Miniflare's req/s", 5.0),
}
KEYS = ("read", "write", "list", *(key for key in STYLES if key != "read"))
BARE = "bare Starlette"  # on plain uvicorn: the baseline of the targets
BARE_OURS = "bare Starlette, workerhost's serving"


def _miniflare(ctx: Context) -> tuple[Server | None, str | None]:
    try:
        tools = ctx.node()
    except ToolMissingError as exc:
        return None, str(exc)
    return miniflare.server(tools, ctx.port(), ctx.folder("miniflare"), ctx.logs), None


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    project = workerhost.write_project(ctx.folder("workerhost"), entrypoint=True)
    host = workerhost.server("workerhost", project, ctx.port(), ctx.logs)
    mini, missing = _miniflare(ctx)
    gets = any(key in STYLES for key in keys)
    ceilings = [bare.plain_server(ctx.port(), ctx.logs), bare.server(ctx.port(), ctx.logs)] if gets else []
    servers = [server for server in (host, mini, *ceilings) if server is not None]
    with ctx.started(*servers):
        for server in (host, mini):
            if server is not None:
                _seed(server)
        return [_row(ctx, key, host, mini, ceilings, missing) for key in KEYS if key in keys]


def _seed(server: Server) -> None:
    status, body = get(server.ready_url.replace("/hello", "/seed"), timeout=120)
    if status != 200:
        raise RuntimeError(f"seeding {server.name} failed: {status} {body[:200]!r}")


def _row(
    ctx: Context, key: str, host: Server, mini: Server | None, ceilings: list[Server], missing: str | None
) -> Row:
    if key in STYLES:
        what, path = STYLES[key]
        target, bound, their_path = _GET_TARGET, 8.0, "/read"
    else:
        what, target, bound = _OTHERS[key]
        path = their_path = f"/{key}"
    targets = {"workerhost": Target(host.ready_url.replace("/hello", path), host)}
    if mini is not None:
        targets["Miniflare"] = Target(mini.ready_url.replace("/hello", their_path), mini)
    if key in STYLES:
        for name, ceiling in zip((BARE, BARE_OURS), ceilings, strict=True):
            targets[name] = Target(ceiling.ready_url, ceiling)
    results = interleaved(targets, ctx.settings)
    row = Row(key, what, target)
    figures = {}
    for name, rounds in results.items():
        line, figures[name] = load_lines(name, rounds)
        row.lines.append(line)
        row.data[name] = [result.to_json() for result in rounds]
    ours, theirs = figures["workerhost"], figures.get("Miniflare", {})
    if key in STYLES:
        baseline = figures.get(BARE, {})
        row.checks.append(Check("CPU vs bare", ratio(ours["cpu"], baseline.get("cpu")), 1.25, False))
        row.checks.append(Check("p99 vs bare", ratio(ours["p99"], baseline.get("p99")), 1.2, False))
        versus = ratio(ours["rps"], baseline.get("rps"))
        if versus is not None:
            row.notes.append(f"req/s vs bare: {versus:.2f}× (CPU per request is the steadier figure)")
    row.checks.append(Check("req/s vs Miniflare", ratio(ours["rps"], theirs.get("rps")), bound, True))
    if missing:
        row.notes.append(f"Miniflare not measured: {missing}")
    return row
