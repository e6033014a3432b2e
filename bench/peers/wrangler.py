"""``wrangler dev`` and ``wrangler kv bulk put --local`` as peers, on a project equivalent to workerhost's.

Both run inside a network namespace with only loopback up (``tools.netns_prefix``): wrangler fetches
request metadata from the internet when dev starts and on every reload.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..tools import NodeTools
from . import WORKER_JS

__all__ = ["ENVIRONMENT", "bulk_put_command", "dev_command", "write_project"]

NAMESPACE_ID = "0f2ac74b498b48028cb68387c421e279"
ENVIRONMENT = {
    "WRANGLER_SEND_METRICS": "false",
    "WRANGLER_SEND_ERROR_REPORTS": "false",
    "NO_COLOR": "1",
}

_CONFIG = f"""\
name = "bench"
main = "worker.mjs"
compatibility_date = "2025-04-01"
kv_namespaces = [{{ binding = "KV", id = "{NAMESPACE_ID}" }}]
"""


def write_project(tools: NodeTools, name: str) -> Path:
    """A wrangler project (wrangler.toml and ``worker.mjs``) under the run's Node projects; returns its folder."""
    project = tools.projects / name
    project.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORKER_JS, project / "worker.mjs")
    (project / "wrangler.toml").write_text(_CONFIG, encoding="utf-8")
    return project


def dev_command(tools: NodeTools, port: int) -> list[str]:
    return [*tools.wrangler, "dev", "--ip", "127.0.0.1", "--port", str(port), "--show-interactive-dev-session=false"]


def bulk_put_command(tools: NodeTools, file: Path) -> list[str]:
    return [*tools.wrangler, "kv", "bulk", "put", str(file), "--binding", "KV", "--local"]
