"""The benchmark harness in smoke mode: every row runs end to end in seconds, so the harness cannot rot.

No speed is asserted here (the machine is shared); only that each row measured what it should.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import ALL_KEYS
from bench.load import parse_wrk
from bench.scenarios.throughput import STYLES
from tests.support import ROOT

pytestmark = pytest.mark.sqlite_only  # the bench sets its own stores, SQLite and Redis side by side

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:8787/read
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.12ms    2.01ms  48.20ms   91.00%
    Req/Sec     3.52k   210.11     3.90k    70.00%
  Latency Distribution
     50%    8.87ms
     75%    9.60ms
     90%   10.90ms
     99%    1.02s
  35012 requests in 5.01s, 4.20MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   6988.42
Transfer/sec:    858.31KB
"""

# Rows that may lack a peer in a smoke run: the Node peers are used only if already installed.
NODE_REASONS = ("not in", "Node", "network namespace", "--no-node")


def test_wrk_latency_summary_is_parsed() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert (result.requests, result.seconds, result.p50_ms, result.p99_ms) == (35012, 5.01, 8.87, 1020.0)
    assert result.failed == 7
    assert round(result.rps) == 6988


def test_a_run_without_a_latency_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk --latency summary"):
        parse_wrk("Running 5s test @ http://127.0.0.1:1/\n  0 requests in 5.00s, 0.00B read\n")


def test_smoke_run_measures_every_row(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-install", "--readme", "--json", str(results)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {row["key"]: row for row in json.loads(results.read_text())["rows"]}
    assert list(rows) == list(ALL_KEYS)
    for key, row in rows.items():
        assert not (row["unavailable"] or "").startswith("failed"), (key, row["unavailable"])
    assert "| what | measured (median, min–max) | ratio | target | |" in done.stdout
    read = rows["read"]["data"]
    assert read["workerhost"][0]["requests"] > 0 and read["bare Starlette"][0]["requests"] > 0
    for key in STYLES:  # each handler style against both bare peers, with CPU per request for each
        for peer in ("workerhost", "bare Starlette", "bare Starlette, workerhost's serving"):
            rounds = rows[key]["data"][peer]
            assert rounds[0]["requests"] > 0 and not rounds[0]["failed"], (key, peer)
            assert rounds[0]["cpu_us_per_request"] > 0, (key, peer)
        assert [check["label"] for check in rows[key]["checks"]][:2] == ["CPU vs bare", "p99 vs bare"]
    assert rows["workers"]["data"]["2 processes"][0]["failed"] == 0
    assert rows["reload-load"]["data"]["workerhost dev"]["load"]["failed"] == 0
    assert len(rows["reload"]["data"]["workerhost"]) == 3
    assert rows["memory"]["data"]["peak_rss_kib"] > 0
    redis = rows["redis"]["data"]  # redis-server is installed wherever the suite runs (.ci/run does it)
    for operation in ("get", "put", "list"):
        for engine in ("SQLite", "Redis"):
            assert redis[f"{operation}-{engine}"][0]["requests"] > 0 and not redis[f"{operation}-{engine}"][0]["failed"]
    assert redis["bulk-Redis"]["values"][0] > 0 and redis["bulk-SQLite"]["values"][0] > 0
    encryption = rows["encryption"]["data"]
    for operation in ("get", "put", "list"):
        for setting in ("on", "off"):
            rounds = encryption[f"{operation}-{setting}"]
            assert rounds[0]["requests"] > 0 and not rounds[0]["failed"], (operation, setting)
    assert [check["label"] for check in rows["encryption"]["checks"]] == ["get req/s on/off", "put req/s on/off"]
    loop = rows["test-loop"]["data"]  # both files' tests all passed, each timed
    assert loop["count"] == 20 and loop["workerhost_ms"]["median"] > 0 and loop["starlette_ms"]["median"] > 0
    for line in (line for row in rows.values() for line in row["lines"] if "not available" in line):
        assert any(reason in line for reason in NODE_REASONS + ("does not exist in this checkout",)), line
