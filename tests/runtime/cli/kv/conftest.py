"""Fixtures for ``workerhost kv`` tests: the CLI run in-process, in an empty working directory."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runtime.cli import command as cli

ENV_SETTINGS = ("WORKERHOST_CONFIG", "WORKERHOST_PERSIST_TO", "WORKERHOST_HOST", "WORKERHOST_PORT")

# A kv.yaml with two workers: "app" binds COUNTER and LINKS, "admin" binds COUNTER to the same namespace
# and AUDIT to another.
KV_YAML = """
kv_namespaces:
  - title: counters
  - title: links
    id: 0f2ac74b498b48028cb68387c421e279
  - title: audit
workers:
  - name: app
    script: worker.py
    routes: ["/app/*"]
    kv_namespaces:
      - {binding: COUNTER, namespace: counters}
      - {binding: LINKS, namespace: links}
  - name: admin
    script: worker.py
    routes: ["/admin/*"]
    kv_namespaces:
      - {binding: COUNTER, namespace: counters}
      - {binding: AUDIT, namespace: audit}
"""
WORKER = """
from runtime import Response

async def fetch(request, env, ctx):
    return Response("ok")
"""


@dataclass
class Outcome:
    """What one CLI run did: exit status, stdout bytes, stderr text."""

    status: int
    out: bytes
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")


Run = Callable[..., Outcome]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no kv.yaml), with no WORKERHOST_* variables set."""
    for name in ENV_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def with_config(project: Path) -> Path:
    """The project with the two-worker kv.yaml above."""
    (project / "kv.yaml").write_text(textwrap.dedent(KV_YAML).lstrip(), encoding="utf-8")
    (project / "worker.py").write_text(textwrap.dedent(WORKER).lstrip(), encoding="utf-8")
    return project


@pytest.fixture
def kv(project: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``workerhost kv ARGV...`` in-process; ``stdin=`` bytes become standard input."""

    def run(*argv: str, stdin: bytes | None = None) -> Outcome:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        try:
            status = cli.main(["kv", *argv])
        except SystemExit as exc:  # argparse refuses the arguments
            status = int(exc.code or 0)
        captured = capsysbinary.readouterr()
        return Outcome(status, captured.out, captured.err.decode("utf-8"))

    return run


@pytest.fixture
def namespace_id(kv: Run) -> str:
    """The id of a fresh namespace titled "data" in the project's default persist directory."""
    created = kv("namespace", "create", "data")
    assert created.status == 0, created.err
    return str(created.json()["id"])


def write_json(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)
