"""A short schemathesis pass over the REST API of the real host (``python -m tests.reliability.fuzz`` runs
the long one): no server error, no response outside the served OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from .fuzz import run_fuzz

SEED = 20261125


def test_a_short_fuzzing_run_finds_no_server_error_and_no_response_off_the_schema(tmp_path: Path) -> None:
    lines: list[str] = []
    # A fixed seed, so a failure replays; the long command goes through seeds.
    result = run_fuzz(300, max_examples=5, seed=SEED, workdir=tmp_path, report=lines.append)
    report = "\n".join([*lines, result.summary(), *result.failures[:5], *result.server_errors[:5]])
    assert result.ok, report
    assert result.requests >= 300, report
    assert {200, 400, 404} <= set(result.statuses), report  # it reached the KV logic, and its refusals
