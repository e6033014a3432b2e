"""The crash campaign, short: three SIGKILLs of a host under concurrent writes and namespace deletes and
creates, each followed by a restart and a check of every key and namespace (see ``crash.py`` and
``churn.py``; ``python -m tests.reliability.crash`` runs the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .crash import run_campaign

pytestmark = pytest.mark.sqlite_only  # the SQLite crash campaign; Redis has its own (test_redis_crash.py)


def test_three_kills_under_concurrent_writes_and_namespace_churn_lose_nothing_and_resurrect_nothing(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    campaign = run_campaign(3, 1000, writers=12, workdir=tmp_path, round_seconds=(0.3, 2.5), report=lines.append)
    problems = campaign.lost + campaign.resurrected + campaign.torn + campaign.failures + campaign.integrity
    report = "\n".join([*lines, campaign.summary(), *problems[:10]])
    assert campaign.ok, report
    assert campaign.kills >= 3 and campaign.acknowledged_writes >= 1000, report  # more kills if writes lag
    assert campaign.integrity_checks >= 4 * campaign.kills, report  # the catalog, A, B and C at least, each time
    writes = {"handler-put", "handler-delete", "rest-put", "rest-delete", "bulk"}
    assert writes < set(campaign.requests) and any(kind.startswith("churn-") for kind in campaign.requests), report
    assert sum(campaign.namespace_ops.values()) > 0, report
