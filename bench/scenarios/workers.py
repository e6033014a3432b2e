"""Row ``workers``: ``workerhost dev --workers 2`` against one process, on the read handler.

Both serve the same store without hot reload (``--workers`` turns it off); rounds interleave.
"""

from __future__ import annotations

import os
import subprocess

from ..load import Target, interleaved
from ..peers import workerhost
from ..procs import get
from ..report import Check, Row, ratio
from ..settings import REPO
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("workers",)
WORKERS = 2


def _supported() -> bool:
    done = subprocess.run(
        workerhost.cli_command("dev", "--help"),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=workerhost.full_environment(),
    )
    return "--workers" in done.stdout


def run(ctx: Context, keys: set[str]) -> list[Row]:
    row = Row(
        "workers",
        f"`--workers {WORKERS}` (served without reload; processes share the store) vs 1",
        f"read req/s ratio ≥ 1.5 (on {os.cpu_count()} cores, with wrk on the same cores)",
    )
    if not _supported():
        row.unavailable = "`workerhost dev --workers` does not exist in this checkout"
        return [row]
    ctx.check_load_tool()
    project = workerhost.write_project(ctx.folder("workers"))
    one = workerhost.server("workerhost-1", project, ctx.port(), ctx.logs, ("--no-reload",))
    many = workerhost.server("workerhost-2", project, ctx.port(), ctx.logs, ("--workers", str(WORKERS)))
    with ctx.started(one, many):
        get(one.ready_url.replace("/hello", "/seed"), timeout=120)
        targets = {
            "1 process": Target(one.ready_url.replace("/hello", "/read"), one),
            f"{WORKERS} processes": Target(many.ready_url.replace("/hello", "/read"), many),
        }
        results = interleaved(targets, ctx.settings)
    figures = {}
    for name, rounds in results.items():
        line, figures[name] = load_lines(name, rounds)
        row.lines.append(line)
        row.data[name] = [result.to_json() for result in rounds]
    speedup = ratio(figures[f"{WORKERS} processes"]["rps"], figures["1 process"]["rps"])
    row.checks.append(Check(f"{WORKERS} processes / 1", speedup, 1.5, True))
    return [row]
