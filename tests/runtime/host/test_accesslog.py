"""The request log: one line per request, each host blanking its own secrets."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest

from runtime import create_app, load_config
from tests.support import app_client, write_files

pytestmark = pytest.mark.anyio


def _project(folder: Path, secret: str) -> Path:
    write_files(
        folder,
        {
            "kv.yaml": 'workers:\n  - name: echo\n    script: w.py\n    routes: ["/*"]\n',
            ".dev.vars": f"HOOK={secret}\n",
            "w.py": "from runtime import Response\nasync def fetch(request, env, ctx):\n    return Response('ok')\n",
        },
    )
    return folder / "kv.yaml"


def _app(config_path: Path) -> object:
    config = dataclasses.replace(load_config(config_path, environ={}), reload=False)
    return create_app(config)


async def test_two_hosts_in_one_process_each_blank_their_own_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The log and its redactor were once one per process: the host started last decided what was
    # blanked, so the first host's secret reached the log in clear.
    first = _app(_project(tmp_path / "a", "first-secret-1111"))
    second = _app(_project(tmp_path / "b", "second-secret-2222"))
    caplog.set_level(logging.INFO, logger="workerhost.request")
    async with app_client(first) as one, app_client(second) as two:
        assert (await one.get("/hook/first-secret-1111")).text == "ok"
        assert (await two.get("/hook/second-secret-2222")).text == "ok"
    lines = [record.getMessage() for record in caplog.records if record.name == "workerhost.request"]
    assert len(lines) == 2
    assert "first-secret-1111" not in caplog.text and "second-secret-2222" not in caplog.text
    assert all(line.startswith("GET /hook/") and " 200 " in line for line in lines)
