"""The settings of one benchmark run: load shape, rounds, sizes, and where caches and scratch files live.

A full run uses the issue's load shape (wrk, 2 threads, 64 connections, a warm-up, 3 rounds or more)
and its sizes (1,000,000 keys, 10,000 pairs, 50 saves). ``--smoke`` keeps every code path but shrinks
durations and sizes so the whole harness runs in seconds, and skips peers whose tools are missing
instead of installing them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["REPO", "Settings", "cache_dir"]

REPO = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """Where installed tools and the generated 1M-key dataset are kept between runs (never inside the repo)."""
    configured = os.environ.get("WORKERHOST_BENCH_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "workerhost-bench"


@dataclass(frozen=True)
class Settings:
    """Everything a scenario needs to know about the run."""

    smoke: bool = False
    rounds: int = 3
    duration: float = 5.0  # seconds per load round (whole seconds for wrk)
    warmup: float = 2.0  # seconds of load before the rounds, per peer
    threads: int = 2
    connections: int = 64
    big_keys: int = 1_000_000
    small_keys: int = 1_000
    bulk_pairs: int = 10_000
    saves: int = 50  # hot reloads measured
    cold_starts: int = 5
    wrangler_bulk_rounds: int = 1  # wrangler kv bulk put takes ~40 s a round
    install: bool = True  # may install wrk (apt) and Miniflare/wrangler (npm)
    node: bool = True  # run the Node peers (Miniflare, wrangler)
    scratch: Path = Path("/tmp")  # per-run temporary files, set by __main__
    cache: Path = Path("/tmp")  # installs and datasets kept between runs, set by __main__

    @classmethod
    def smoke_run(cls, **overrides: object) -> Settings:
        """Every row in seconds: tiny sizes, one short round, no installs."""
        base = cls(
            smoke=True,
            rounds=1,
            duration=0.3,
            warmup=0.0,
            connections=8,
            big_keys=2_000,
            small_keys=100,
            bulk_pairs=200,
            saves=3,
            cold_starts=1,
            install=False,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    @property
    def use_wrk(self) -> bool:
        """wrk measures in whole seconds, too long for smoke runs; those use ``bench.client`` instead."""
        return not self.smoke
