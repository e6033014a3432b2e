"""The crash campaign, short: three SIGKILLs of a host under concurrent writes, each followed by a restart
and a check of every key (see ``crash.py``; ``python -m tests.reliability.crash`` runs the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .crash import run_campaign

pytestmark = pytest.mark.sqlite_only  # the SQLite crash campaign; Redis has its own (test_redis_crash.py)


def test_three_kills_under_concurrent_writes_lose_no_acknowledged_write(tmp_path: Path) -> None:
    lines: list[str] = []
    campaign = run_campaign(3, 1000, writers=12, workdir=tmp_path, round_seconds=(0.3, 2.5), report=lines.append)
    report = "\n".join([*lines, campaign.summary(), *campaign.lost[:5], *campaign.torn[:5], *campaign.failures[:5]])
    assert campaign.ok, report
    assert campaign.kills >= 3 and campaign.acknowledged_writes >= 1000, report  # more kills if writes lag
    assert campaign.integrity_checks == 3 * campaign.kills, report  # the catalog and both namespaces, each time
    assert set(campaign.requests) == {"handler-put", "handler-delete", "rest-put", "rest-delete", "bulk"}, report
