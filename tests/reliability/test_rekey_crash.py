"""The rekey crash campaign, short, on both engines: ``workerhost kv rekey`` killed with SIGKILL at random
moments while it encrypts a plain store and then moves it to a new key; after every kill every entry opens
with the key its stored form names, and running the rekey again finishes it (see ``rekey_crash.py``;
``python -m tests.reliability.rekey_crash`` runs the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindings import sqlite_location
from tests.redis_support import RedisServer

from .rekey_crash import run_campaign


@pytest.mark.parametrize("engine", ["sqlite", "redis"])
def test_kills_at_random_moments_of_a_rekey_leave_every_entry_readable_and_it_finishes_on_resume(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        location = server.location()
    else:
        location = sqlite_location(tmp_path / "data")
    lines: list[str] = []
    campaign = run_campaign(location, 4, 4000, workdir=tmp_path, engine=engine, report=lines.append)
    report = "\n".join([*lines, campaign.summary(), *campaign.problems[:10]])
    assert campaign.ok, report
    # The first kill of each rekey waits for its first rewritten entry: both land midway.
    assert campaign.kills >= 2 and campaign.midway >= 2, report
    assert campaign.checks >= campaign.kills * campaign.entries, report
