"""workerhost as a peer: a project folder (kv.yaml plus a copy of ``worker.py``) served by ``python -m runtime dev``.

With ``entrypoint=True`` the project also has ``entry.py``, a ``WorkerEntrypoint`` on ``/entry/*`` bound
to the first namespace as ``KV``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..procs import Server, merged_environment
from ..settings import REPO
from . import ENTRY_PY, WORKER_PY

__all__ = ["Binding", "cli_command", "dev_command", "environment", "full_environment", "server", "write_project"]

Binding = tuple[str, str, str]  # binding name, namespace title, namespace id ("" for any)


def write_project(
    root: Path,
    bindings: Sequence[Binding] = (("KV", "bench", ""),),
    vars: Mapping[str, object] | None = None,
    persist_to: Path | None = None,
    entrypoint: bool = False,
) -> Path:
    """Write kv.yaml and the handler into ``root``; returns the kv.yaml path."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORKER_PY, root / "worker.py")
    if entrypoint:
        shutil.copyfile(ENTRY_PY, root / "entry.py")
    lines = []
    if persist_to is not None:
        lines.append(f"persist_to: {persist_to}")
    lines.append("kv_namespaces:")
    for _, title, namespace_id in bindings:
        lines.append(f"  - title: {title}" + (f"\n    id: {namespace_id}" if namespace_id else ""))
    lines += ["workers:", "  - name: bench", "    script: worker.py", '    routes: ["/*"]', "    kv_namespaces:"]
    lines += [f"      - {{binding: {name}, namespace: {title}}}" for name, title, _ in bindings]
    if vars:
        lines.append("    vars:")
        lines += [f"      {name}: {value}" for name, value in vars.items()]
    if entrypoint:
        lines += ["  - name: entry", "    script: entry.py", '    routes: ["/entry/*"]', "    kv_namespaces:"]
        lines.append(f"      - {{binding: KV, namespace: {bindings[0][1]}}}")
    config = root / "kv.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def dev_command(config: Path, port: int, args: Sequence[str] = ()) -> list[str]:
    """``workerhost dev`` for ``config`` on ``port``."""
    return [sys.executable, "-m", "runtime", "dev", "--config", str(config), "--port", str(port), *args]


def cli_command(*args: str) -> list[str]:
    """``workerhost ARGS...`` from this checkout."""
    return [sys.executable, "-m", "runtime", *args]


def environment() -> dict[str, str | None]:
    """Changes to the environment for a Python peer: this checkout on its path, and bytecode caches on.

    Python may write ``__pycache__`` (``PYTHONDONTWRITEBYTECODE`` removed), so after the warm-up start
    workerhost starts as an installed package does, not compiling every module from source each time.
    """
    return {"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": None}


def full_environment() -> dict[str, str]:
    """The current environment with ``environment()`` applied, for ``subprocess.run``."""
    return merged_environment(environment())


def server(
    name: str,
    config: Path,
    port: int,
    logs: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str | None] | None = None,
) -> Server:
    """``workerhost dev`` on ``port`` as users run it (hot reload on unless ``args`` says otherwise), not started."""
    command = dev_command(config, port, args)
    variables = {**environment(), **(env or {})}
    return Server(name, command, f"http://127.0.0.1:{port}/hello", logs, cwd=config.parent, env=variables)
