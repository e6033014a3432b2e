"""Rows ``scale`` and ``memory``: get, put and list in a namespace of 1,000,000 keys against one of 1,000.

One workerhost serves both namespaces of the cached dataset. Each operation picks a random key (or a
random 100-key prefix) of its namespace, so the big one is read all over, not through a hot cache.
The ratio is the big namespace's p50 latency over the small one's, rounds interleaved. Memory is the
host's peak resident set (VmHWM) after all of that.
"""

from __future__ import annotations

from ..dataset import BIG_ID, SMALL_ID, ensure_dataset
from ..load import Target, interleaved
from ..peers import workerhost
from ..report import Check, Row, Series, ratio
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("scale", "memory")
OPERATIONS = ("get", "put", "list")
MEMORY_LIMIT_MB = 150


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    settings = ctx.settings
    root = settings.scratch if settings.smoke else settings.cache / "datasets"
    dataset = ensure_dataset(root, settings.big_keys, settings.small_keys)
    bindings = (("BIG", "bench-big", BIG_ID), ("SMALL", "bench-small", SMALL_ID))
    variables = {"BIG_KEYS": dataset.big_keys, "SMALL_KEYS": dataset.small_keys}
    project = workerhost.write_project(ctx.folder("scale"), bindings, variables, dataset.persist_to)
    host = workerhost.server("workerhost-scale", project, ctx.port(), ctx.logs)
    base = host.ready_url.removesuffix("/hello")
    rows = []
    with ctx.started(host):
        scale_row = Row(
            "scale",
            f"get, put and list in a namespace of {dataset.big_keys:,} keys vs one of {dataset.small_keys:,}",
            "latency ratio ≤ 1.5",
        )
        for operation in OPERATIONS:
            targets = {size: Target(f"{base}/scale/{size}/{operation}", host) for size in ("big", "small")}
            results = interleaved(targets, settings)
            figures = {}
            for size, rounds in results.items():
                line, figures[size] = load_lines(f"{operation} {size}", rounds)
                scale_row.lines.append(line)
                scale_row.data[f"{operation}-{size}"] = [result.to_json() for result in rounds]
            p50 = ratio(figures["big"]["p50"], figures["small"]["p50"])
            scale_row.checks.append(Check(f"{operation} p50 big/small", p50, 1.5, False))
        if "scale" in keys:
            rows.append(scale_row)
        if "memory" in keys:
            rows.append(_memory_row(host.peak_rss_kib(), host.rss_kib(), dataset.big_keys))
    return rows


def _memory_row(peak_kib: int | None, now_kib: int | None, big_keys: int) -> Row:
    row = Row(
        "memory",
        f"host memory (RSS) serving a {big_keys:,}-key namespace",
        f"≤ {MEMORY_LIMIT_MB} MB: the data stays on disk",
    )
    if peak_kib is None:
        row.unavailable = "no /proc to read memory from"
        return row
    peak_mb = peak_kib / 1024
    row.lines.append(f"peak RSS {Series([peak_mb]).show('MB', 1)}, now {(now_kib or 0) / 1024:.1f} MB")
    row.data = {"peak_rss_kib": peak_kib, "rss_kib": now_kib}
    row.checks.append(Check("peak RSS", peak_mb, MEMORY_LIMIT_MB, False, " MB"))
    return row
