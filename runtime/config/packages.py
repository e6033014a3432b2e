"""The project's Python dependencies that this environment lacks, named with the command that installs them.

A Cloudflare Python project lists its packages in ``pyproject.toml`` (``[project] dependencies``),
which Cloudflare installs at deploy. workerhost runs the worker in its own environment and installs
nothing itself: at start, it names what is missing and the ``pip install`` that would add it.
The SDK packages Cloudflare's projects list (``workers-py``, ``workers-runtime-sdk``) are Pyodide-side
and not needed here: workerhost provides ``workers``.
"""

from __future__ import annotations

import re
import shlex
import sys
import tomllib
from pathlib import Path

__all__ = ["install_command", "missing_packages"]

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PROVIDED = frozenset({"workers-py", "workers-runtime-sdk", "webtypy"})


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def missing_packages(pyproject: Path) -> list[str]:
    """The requirements of ``pyproject``'s ``[project] dependencies`` not installed here (as written)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    project = data.get("project")
    requirements = project.get("dependencies") if isinstance(project, dict) else None
    if not requirements:
        return []
    from importlib.metadata import PackageNotFoundError, distribution  # slow to import: only when needed

    missing = []
    for requirement in requirements if isinstance(requirements, list) else []:
        match = _NAME.match(requirement) if isinstance(requirement, str) else None
        if match is None or _normalized(match.group(1)) in _PROVIDED:
            continue
        try:
            distribution(match.group(1))
        except PackageNotFoundError:
            missing.append(requirement.strip())
    return missing


def install_command(requirements: list[str]) -> str:
    """The command that installs ``requirements`` into the Python running workerhost."""
    return shlex.join([sys.executable, "-m", "pip", "install", *requirements])
