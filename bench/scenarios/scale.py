"""Rows ``scale`` and ``memory``: get, put and list in a namespace of 1,000,000 keys against one of 1,000.

One workerhost serves both namespaces of the cached dataset. Each operation picks a random key (or a
random 100-key prefix) of its namespace, and rounds interleave. The ratio is the big namespace's p50
latency over the small one's. The read cache is off for this row (``WORKERHOST_READ_CACHE=0``): the
small namespace would otherwise be served from memory, and the row is about the storage.

Memory is the peak resident set (VmHWM) of a second host, as users run it (read cache on), after a
round of each operation on the big namespace.
"""

from __future__ import annotations

from ..dataset import BIG_ID, SMALL_ID, Dataset, ensure_dataset
from ..load import Target, interleaved, run_load
from ..peers import workerhost
from ..procs import Server
from ..report import Check, Row, Series, ratio
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("scale", "memory")
OPERATIONS = ("get", "put", "list")
MEMORY_LIMIT_MB = 150


def _host(ctx: Context, dataset: Dataset, name: str, env: dict[str, str] | None = None) -> Server:
    bindings = (("BIG", "bench-big", BIG_ID), ("SMALL", "bench-small", SMALL_ID))
    variables = {"BIG_KEYS": dataset.big_keys, "SMALL_KEYS": dataset.small_keys}
    project = workerhost.write_project(ctx.folder(name), bindings, variables, dataset.persist_to)
    return workerhost.server(name, project, ctx.port(), ctx.logs, env=env)


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    settings = ctx.settings
    root = settings.scratch if settings.smoke else settings.cache / "datasets"
    dataset = ensure_dataset(root, settings.big_keys, settings.small_keys)
    rows = []
    if "scale" in keys:
        rows.append(_scale_row(ctx, dataset))
    if "memory" in keys:
        rows.append(_memory_row(ctx, dataset))
    return rows


def _scale_row(ctx: Context, dataset: Dataset) -> Row:
    row = Row(
        "scale",
        f"get, put and list in a namespace of {dataset.big_keys:,} keys vs one of {dataset.small_keys:,}",
        "latency ratio ≤ 1.5",
    )
    host = _host(ctx, dataset, "workerhost-scale", {"WORKERHOST_READ_CACHE": "0"})
    base = host.ready_url.removesuffix("/hello")
    with ctx.started(host):
        for operation in OPERATIONS:
            targets = {size: Target(f"{base}/scale/{size}/{operation}", host) for size in ("big", "small")}
            results = interleaved(targets, ctx.settings)
            figures = {}
            for size, rounds in results.items():
                line, figures[size] = load_lines(f"{operation} {size}", rounds)
                row.lines.append(line)
                row.data[f"{operation}-{size}"] = [result.to_json() for result in rounds]
            p50 = ratio(figures["big"]["p50"], figures["small"]["p50"])
            row.checks.append(Check(f"{operation} p50 big/small", p50, 1.5, False))
    row.notes.append("read cache off (WORKERHOST_READ_CACHE=0), so both namespaces are read from the file")
    return row


def _memory_row(ctx: Context, dataset: Dataset) -> Row:
    row = Row(
        "memory",
        f"host memory (RSS) serving a {dataset.big_keys:,}-key namespace",
        f"≤ {MEMORY_LIMIT_MB} MB: the data stays on disk",
    )
    host = _host(ctx, dataset, "workerhost-memory")
    base = host.ready_url.removesuffix("/hello")
    with ctx.started(host):
        for operation in OPERATIONS:
            run_load(f"{base}/scale/big/{operation}", ctx.settings)
        peak_kib, now_kib = host.peak_rss_kib(), host.rss_kib()
    if peak_kib is None:
        row.unavailable = "no /proc to read memory from"
        return row
    peak_mb = peak_kib / 1024
    now_mb = (now_kib or 0) / 1024
    row.lines.append(
        f"peak RSS {Series([peak_mb]).show('MB', 1)} after a round each of get, put, list; now {now_mb:.1f} MB"
    )
    row.data = {"peak_rss_kib": peak_kib, "rss_kib": now_kib}
    row.checks.append(Check("peak RSS", peak_mb, MEMORY_LIMIT_MB, False, " MB"))
    return row
