"""The pytest plugin users' tests get (``plugin.py``), and the harness behind its fixtures (``harness.py``).

Installing workerhost registers this package as a pytest plugin (entry point ``pytest11``:
``workerhost = "runtime.testing"``). Importing it imports nothing but pytest.
"""

from __future__ import annotations

from typing import Any

from .plugin import (
    pytest_addoption,
    pytest_configure,
    workerhost,
    workerhost_app,
    workerhost_async,
    workerhost_async_client,
    workerhost_client,
    workerhost_clock,
    workerhost_config,
    workerhost_config_path,
)

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "workerhost",
    "workerhost_app",
    "workerhost_async",
    "workerhost_async_client",
    "workerhost_client",
    "workerhost_clock",
    "workerhost_config",
    "workerhost_config_path",
]


def __getattr__(name: str) -> Any:
    # The harness classes, for type annotations, without importing them when the plugin loads.
    if name in ("AsyncWorkerhost", "Workerhost", "SyncKV"):
        from . import harness

        return getattr(harness, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
