"""``python -m bench``: run the benchmark rows, print the table, write the JSON results.

python -m bench [--smoke] [--only ROW ...] [--rounds N] [--duration S] [--warmup S]
                [--json PATH] [--readme] [--no-install] [--no-node]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

from .report import Row, machine, render_markdown, render_text, write_json
from .scenarios import Context, groups
from .settings import REPO, Settings, cache_dir
from .tools import ToolMissingError

ALL_KEYS = (
    "read",
    "write",
    "list",
    "style-json",
    "style-starlette-text",
    "style-starlette-json",
    "style-query",
    "style-headers",
    "style-entrypoint",
    "scale",
    "memory",
    "bulk-rest",
    "bulk-cli",
    "redis",
    "encryption",
    "reload",
    "reload-load",
    "cold-start",
    "workers",
    "test-loop",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="workerhost's speed table, measured side by side."
    )
    parser.add_argument("--smoke", action="store_true", help="every row in seconds with tiny sizes (no speed claims)")
    parser.add_argument(
        "--only", nargs="+", metavar="ROW", choices=ALL_KEYS, help=f"just these rows: {', '.join(ALL_KEYS)}"
    )
    parser.add_argument("--rounds", type=int, help="load rounds per peer (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per load round (default 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up load per peer (default 2)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="where to write the results (default bench/results/)")
    parser.add_argument("--readme", action="store_true", help="also print the table as README markdown")
    parser.add_argument("--no-install", action="store_true", help="never install wrk or the Node peers")
    parser.add_argument("--no-node", action="store_true", help="skip the Miniflare and wrangler peers")
    return parser


def _settings(args: argparse.Namespace, scratch: Path) -> Settings:
    settings = Settings.smoke_run() if args.smoke else Settings()
    overrides: dict[str, Any] = {"scratch": scratch, "cache": cache_dir()}
    for name in ("rounds", "duration", "warmup"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_install:
        overrides["install"] = False
    if args.no_node:
        overrides["node"] = False
    return replace(settings, **overrides)


def _revision() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=REPO).stdout.strip()
    return done.stdout.strip() + ("+changes" if dirty else "") if done.returncode == 0 else "unknown"


def _header(settings: Settings, meta: dict[str, Any]) -> list[str]:
    box = meta["machine"]
    load = "bench.client (smoke)" if settings.smoke else "wrk"
    return [
        f"workerhost {meta['revision']}, {meta['started']}",
        f"machine: {box['cpu']}, {box['cores']} cores, {box['memory']}, {box['os']}, Python {box['python']}",
        f"load: {load}, {settings.threads} threads, {settings.connections} connections, {settings.warmup:g} s warm-up, "
        f"{settings.rounds} rounds of {settings.duration:g} s per peer, interleaved; median (min–max)",
    ]


def run(settings: Settings, keys: set[str]) -> list[Row]:
    """Run the groups holding ``keys``; a group that fails becomes rows saying why."""
    ctx = Context(settings)
    ctx.logs.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    for group_keys, scenario in groups():
        wanted = keys & set(group_keys)
        if not wanted:
            continue
        print(f"… {', '.join(key for key in group_keys if key in wanted)}", file=sys.stderr, flush=True)
        try:
            rows.extend(scenario(ctx, wanted))
        except ToolMissingError as exc:
            rows.extend(Row(key, key, "", unavailable=str(exc)) for key in group_keys if key in wanted)
        except Exception as exc:
            traceback.print_exc()
            reason = f"failed: {type(exc).__name__}: {exc}".splitlines()[0][:300]
            rows.extend(Row(key, key, "", unavailable=reason) for key in group_keys if key in wanted)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="workerhost-bench-"))
    settings = _settings(args, scratch)
    meta = {
        "revision": _revision(),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {key: str(value) for key, value in vars(settings).items()},
    }
    try:
        rows = run(settings, set(args.only or ALL_KEYS))
    finally:
        shutil.rmtree(settings.cache / "node" / "projects" / str(os.getpid()), ignore_errors=True)
    header = _header(settings, meta)
    print(render_text(rows, header))
    if args.readme:
        print(render_markdown(rows, header))
    stamp = meta["started"].replace(":", "")
    path = args.json or REPO / "bench" / "results" / f"{'smoke' if settings.smoke else 'bench'}-{stamp}.json"
    write_json(path, rows, meta)
    print(f"results: {path}; logs: {scratch / 'logs'}")
    # A row that could not run for lack of a tool is reported as such; one that broke fails the run.
    return 1 if any((row.unavailable or "").startswith("failed") for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
