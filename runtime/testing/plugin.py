"""The pytest plugin for users' tests: the workers of their kv.yaml, in-process, on fresh storage per test.

Installing workerhost registers it (entry point ``pytest11``: ``workerhost = "runtime.testing"``).
It is inert until a test asks for one of its fixtures: importing it imports nothing but pytest.

Fixtures (each one per test, so nothing is shared between tests, with or without pytest-xdist):

    workerhost_config_path   kv.yaml: ``--workerhost-config FILE``, else ini ``workerhost_config``
                             (relative to the ini file), else kv.yaml or a wrangler config in the rootdir
    workerhost_config        that config, with KV data of this test's own (a fresh temporary directory, or
                             a fresh key prefix on a shared store such as Redis) and no file watching
    workerhost_clock         the ``ManualClock`` KV expiry (and ``scheduled_time``) is judged by
    workerhost_app           the host app built from them (not started), for your own client
    workerhost               the host running, for sync tests: ``.client`` (httpx.Client), ``.kv()``,
                             ``.env()``, ``.advance()``, ``.wait_until()``, ``.scheduled()``, ``.reset()``
    workerhost_client        ``workerhost.client``
    workerhost_async         the same on the test's event loop, for ``@pytest.mark.anyio`` tests; its
                             helpers are awaited and ``.client`` is an httpx.AsyncClient
    workerhost_async_client  ``workerhost_async.client``

Cron triggers do not fire on their own in tests: ``scheduled()`` runs a scheduled handler when the
test says so. See ``runtime.testing.harness`` for the helpers.

Marker ``@pytest.mark.workerhost_fidelity(**modes)`` runs the test's host with production-fidelity
modes (README, "Production fidelity"), e.g. ``(rate_limit=True, consistency="eventual",
writes="another_location", limits="strict", api_rate_limit=True)``: they win over kv.yaml's, for
every namespace.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import httpx

    from bindings import ManualClock

    from ..config import RuntimeConfig
    from ..host.app import HostApp
    from .harness import AsyncWorkerhost, Workerhost

__all__ = [
    "workerhost",
    "workerhost_app",
    "workerhost_async",
    "workerhost_async_client",
    "workerhost_client",
    "workerhost_clock",
    "workerhost_config",
    "workerhost_config_path",
]

DEFAULT_CONFIG = "kv.yaml"
_STARTED = "workerhost_started"
FIDELITY_MARKER = "workerhost_fidelity"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FIDELITY_MARKER}(**modes): run the test's workerhost with these production-fidelity modes, over "
        "kv.yaml's, for every namespace: rate_limit, consistency, writes, cache_ttl, negative_ttl, list_lag, "
        'limits, api_rate_limit (README "Production fidelity")',
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workerhost")
    group.addoption(
        "--workerhost-config",
        metavar="FILE",
        dest="workerhost_config",
        help="the kv.yaml the workerhost fixtures load (default: ini workerhost_config, else kv.yaml in the rootdir)",
    )
    parser.addini("workerhost_config", "the kv.yaml the workerhost fixtures load, relative to this ini file")


def _fail_setup(exc: Exception) -> NoReturn:
    pytest.fail(f"workerhost: {exc}", pytrace=False)


@pytest.fixture
def workerhost_config_path(pytestconfig: pytest.Config) -> Path:
    """The kv.yaml the host is built from."""
    option = pytestconfig.getoption("workerhost_config")
    if option:
        return (pytestconfig.invocation_params.dir / str(option)).absolute()
    ini = pytestconfig.getini("workerhost_config")
    if ini and pytestconfig.inipath:
        return (pytestconfig.inipath.parent / str(ini)).absolute()
    # As `workerhost dev` finds it: kv.yaml, or a wrangler config, in the rootdir (or a parent).
    from ..config.discovery import find_config

    found = find_config(pytestconfig.rootpath)
    return (pytestconfig.rootpath / (found or DEFAULT_CONFIG)).resolve()


@pytest.fixture
def workerhost_config(
    workerhost_config_path: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RuntimeConfig]:
    """kv.yaml, loaded and checked, with KV data of this test's own and no file watching.

    A SQLite store goes in a fresh temporary directory. A shared store (Redis: kv.yaml's ``storage``
    or ``WORKERHOST_STORAGE``) keeps its server, under a fresh key prefix, deleted after the test.

    A ``workerhost_fidelity`` marker's modes are applied over kv.yaml's.
    """
    from ..config import load_config
    from ..config.fidelity import with_modes
    from ..config.storage import is_sqlite, storage_location
    from ..errors import ConfigError, WorkerhostError

    marker = request.node.get_closest_marker(FIDELITY_MARKER)
    try:
        config = load_config(workerhost_config_path)
        if marker is not None:
            where = f"@pytest.mark.{FIDELITY_MARKER}"
            if marker.args:
                raise ConfigError(f"{where}: modes are keyword arguments, e.g. rate_limit=True; got {marker.args!r}")
            config = with_modes(config, marker.kwargs, where)
    except WorkerhostError as exc:
        problem = exc
    else:
        persist_to = tmp_path_factory.mktemp("workerhost")
        if is_sqlite(config.storage):
            # The store goes with the data: the test's own directory, with no page cap (a dev-server setting).
            storage = storage_location(persist_to, config.environ)
            yield dataclasses.replace(config, persist_to=persist_to, storage=storage, reload=False)
            return
        storage = _isolated(config.storage)
        try:
            yield dataclasses.replace(config, persist_to=persist_to, storage=storage, reload=False)
        finally:
            _in_thread(_destroy(storage))
        return
    _fail_setup(problem)  # outside the except clause, so the report is the one line, not a chain


def _isolated(location: str) -> str:
    """A location on the same server with a key prefix no other test uses (README "Testing your handlers")."""
    import uuid

    from bindings.storage.redis.location import parse_redis_location, with_prefix

    prefix = parse_redis_location(location).prefix
    return with_prefix(location, f"{prefix}:test-{uuid.uuid4().hex[:16]}")


async def _destroy(location: str) -> None:
    from bindings import open_store

    store = open_store(location)
    try:
        destroy = getattr(store, "destroy", None)
        if destroy is not None:
            await destroy()
    finally:
        await store.close()


@pytest.fixture
def workerhost_clock() -> ManualClock:
    """The clock KV expiry is judged by; it starts at the current time and moves only with ``advance()``."""
    from bindings import ManualClock

    return ManualClock()


def _in_thread(work: Coroutine[Any, Any, None]) -> None:
    # On a thread of its own: the test's event loop (if any) belongs to the test, not to this teardown.
    import asyncio

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work)
        except Exception as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, name="workerhost-teardown")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


@pytest.fixture
def workerhost_app(workerhost_config: RuntimeConfig, workerhost_clock: ManualClock) -> HostApp:
    """The host app on this test's store and clock, not started (the harness fixtures start it).

    The host opens the store when it starts and closes it when it stops, on the loop it runs on (a
    Redis client belongs to its event loop).
    """
    from ..host.app import create_app

    return create_app(workerhost_config, clock=workerhost_clock, debug=True, crons=False)


def _claim(app: HostApp, fixture: str) -> None:
    started = getattr(app.state, _STARTED, None)
    if started is not None:
        pytest.fail(f"workerhost: a test can use {started} or {fixture}, not both", pytrace=False)
    setattr(app.state, _STARTED, fixture)


@pytest.fixture
def workerhost(workerhost_app: HostApp, workerhost_clock: ManualClock) -> Iterator[Workerhost]:
    """The host running on a background event loop, with a sync client and blocking helpers."""
    from ..errors import WorkerhostError
    from .harness import running

    _claim(workerhost_app, "workerhost")
    try:
        with running(workerhost_app, workerhost_clock) as harness:
            yield harness
            return
    except WorkerhostError as exc:  # kv.yaml names a handler that does not load
        problem = exc
    _fail_setup(problem)


@pytest.fixture
def workerhost_client(workerhost: Workerhost) -> httpx.Client:
    """An httpx.Client against the running host (``base_url`` http://testserver)."""
    return workerhost.client


@pytest.fixture
async def workerhost_async(
    workerhost_app: HostApp, workerhost_clock: ManualClock, anyio_backend: Any
) -> AsyncIterator[AsyncWorkerhost]:
    """The host running on the test's event loop (anyio, asyncio backend), with an async client."""
    from ..errors import WorkerhostError
    from .harness import running_async

    backend = anyio_backend if isinstance(anyio_backend, str) else anyio_backend[0]
    if backend != "asyncio":
        pytest.fail(
            f'workerhost: workerhost_async runs on asyncio, not {backend}; add a fixture "anyio_backend" '
            'returning "asyncio" to conftest.py',
            pytrace=False,
        )
    _claim(workerhost_app, "workerhost_async")
    try:
        async with running_async(workerhost_app, workerhost_clock) as harness:
            yield harness
            return
    except WorkerhostError as exc:
        problem = exc
    _fail_setup(problem)


@pytest.fixture
def workerhost_async_client(workerhost_async: AsyncWorkerhost) -> httpx.AsyncClient:
    """An httpx.AsyncClient against the host running on the test's event loop."""
    return workerhost_async.client
