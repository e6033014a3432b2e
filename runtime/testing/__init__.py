"""The pytest plugin users' tests get (``plugin.py``), and the harness behind its fixtures.

Installing workerhost registers this package as a pytest plugin (entry point ``pytest11``:
``workerhost = "runtime.testing"``). Importing it imports nothing but pytest.

    plugin.py    the fixtures and markers
    options.py   the ``workerhost`` marker: config, vars, secrets, raise_handler_exceptions
    sessions.py  hosts started once per session and config, made fresh for each test
    harness.py   what a test drives: the client, kv(), env(), advance(), wait_until(), scheduled()...
    clock.py     the test's one clock: KV expiry and handlers' time.time() and datetime.now()
"""

from __future__ import annotations

from typing import Any

from .plugin import (
    _workerhost_session,
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
    workerhost_fetch,
)

__all__ = [
    "_workerhost_session",
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
    "workerhost_fetch",
]


def __getattr__(name: str) -> Any:
    # The harness classes, for type annotations, without importing them when the plugin loads.
    if name in ("AsyncWorkerhost", "Workerhost", "SyncKV"):
        from . import harness

        return getattr(harness, name)
    if name == "TestClock":
        from . import clock

        return clock.TestClock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
