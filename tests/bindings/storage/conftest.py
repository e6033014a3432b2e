"""The storage contract also runs on a real 3-master Redis Cluster: every namespace's keys must share
one hash slot, or its scripts would be refused there."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import CLUSTER, ENGINES, Engine


@pytest.fixture(params=[*ENGINES, CLUSTER])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an empty store lives, once per engine and on a Cluster; ``open_store(location)`` opens it."""
    engine: Engine = request.param
    return engine(request, tmp_path)
