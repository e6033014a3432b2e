"""The pytest plugin for users' tests: the workers of their kv.yaml, in-process, on fresh storage per test.

Installing workerhost registers it (entry point ``pytest11``: ``workerhost = "runtime.testing"``).
It is inert until a test asks for one of its fixtures: importing it imports nothing but pytest.

Fixtures:

    workerhost_config_path   kv.yaml: the ``workerhost`` marker's ``config=``, else ``--workerhost-config
                             FILE``, else ini ``workerhost_config`` (relative to the ini file), else kv.yaml
                             or a wrangler config in the rootdir
    workerhost               the host running, for sync tests: ``.client`` (httpx.Client), ``.kv()``,
                             ``.env()``, ``.advance()``, ``.wait_until()``, ``.scheduled()``, ``.reset()``
    workerhost_client        ``workerhost.client``
    workerhost_async         a host on the test's event loop, for ``@pytest.mark.anyio`` tests; its
                             helpers are awaited and ``.client`` is an httpx.AsyncClient
    workerhost_async_client  ``workerhost_async.client``
    workerhost_clock         the test's one clock (``runtime.testing.clock``): KV expiry and handlers' time
    workerhost_fetch         a respx router that answers handlers' outbound ``fetch`` in this test
    workerhost_config        the config the test's host runs (alone: one with KV data of the test's own)
    workerhost_app           a host app of the test's own, not started, for a client of your own

``workerhost`` runs on a host started once per session and config, made fresh for each test: its KV
storage emptied, its clock and state reset (``runtime.testing.sessions``). Nothing a test stores is
seen by another, in any order, under pytest-xdist too. ``workerhost_async`` starts a host per test.

Cron triggers do not fire on their own in tests: ``scheduled()`` runs a scheduled handler when the
test says so. See ``runtime.testing.harness`` for the helpers.

Markers: ``@pytest.mark.workerhost(config=, vars=, secrets=, raise_handler_exceptions=)``
(``runtime.testing.options``) and ``@pytest.mark.workerhost_fidelity(**modes)``, which runs the
test's host with production-fidelity modes (README "Production fidelity") over kv.yaml's.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import httpx

    from ..config import RuntimeConfig
    from ..host.app import HostApp
    from .clock import TestClock
    from .harness import AsyncWorkerhost, Workerhost
    from .options import TestOptions
    from .sessions import HostPool

__all__ = [
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

DEFAULT_CONFIG = "kv.yaml"
FIDELITY_MARKER = "workerhost_fidelity"
OPTIONS_MARKER = "workerhost"
_HARNESSES = ("workerhost", "workerhost_async")
# Fixtures one test cannot use together: each pair gets a one-line message naming both.
_CONFLICTS = (
    frozenset({"workerhost", "workerhost_async"}),
    frozenset({"workerhost", "workerhost_app"}),
    frozenset({"workerhost_async", "workerhost_app"}),
    frozenset({"workerhost_fetch", "respx_mock"}),
)
_CLAIMS = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FIDELITY_MARKER}(**modes): run the test's workerhost with these production-fidelity modes, over "
        "kv.yaml's, for every namespace: rate_limit, consistency, writes, cache_ttl, negative_ttl, list_lag, "
        'limits, api_rate_limit (README "Production fidelity")',
    )
    config.addinivalue_line(
        "markers",
        f"{OPTIONS_MARKER}(config=None, vars=None, secrets=None, raise_handler_exceptions=True, fresh_modules=False): "
        "the test's workerhost runs this config file (relative to the rootdir), with these vars and secrets over "
        "its own; raise_handler_exceptions=False gives the 500 page instead of raising; fresh_modules=True imports "
        'the handlers for this test alone (README "Testing your handlers")',
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


def _fail_setup(message: object) -> NoReturn:
    pytest.fail(f"workerhost: {message}", pytrace=False)


def _claim(request: pytest.FixtureRequest, fixture: str) -> None:
    """Note that the test uses ``fixture``; fail its setup, naming both, if it uses one that conflicts."""
    claims = request.node.stash.setdefault(_CLAIMS, [])
    used = [*claims, *(name for name in request.fixturenames if name == "respx_mock")]
    for other in used:
        if frozenset({other, fixture}) in _CONFLICTS:
            first, second = (other, fixture) if other in claims else (fixture, other)
            _fail_setup(f"a test can use {first} or {second}, not both")
    claims.append(fixture)


class _Session:
    """What the plugin keeps for a test session: its started hosts and the configs it has loaded."""

    def __init__(self, pool: HostPool) -> None:
        self.pool = pool
        self.configs: dict[Any, RuntimeConfig] = {}


@pytest.fixture(scope="session")
def _workerhost_session() -> Iterator[_Session]:
    from .sessions import HostPool

    session = _Session(HostPool())
    try:
        yield session
    finally:
        session.pool.close()


@pytest.fixture
def workerhost_config_path(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> Path:
    """The config file the test's host is built from."""
    options = _options(request)
    if options.config is not None:
        return options.config
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


def _options(request: pytest.FixtureRequest) -> TestOptions:
    from .options import MarkerError, read_markers

    try:
        return read_markers(request.node.iter_markers(OPTIONS_MARKER), request.config.rootpath)
    except MarkerError as exc:
        _fail_setup(exc)


def _loaded(session: _Session, path: Path) -> tuple[Any, RuntimeConfig]:
    """The config at ``path``, loaded once per session while the file and the environment stay as they were."""
    from ..config import load_config

    try:
        stamp: object = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (path, stamp, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("WORKERHOST_"))))
    config = session.configs.get(key)
    if config is None:
        config = session.configs[key] = load_config(path)  # a WorkerhostError is not kept: each test says it
    return key, config


def _test_config(request: pytest.FixtureRequest, session: _Session, path: Path) -> tuple[Any, RuntimeConfig]:
    """The config the test's host runs, and a key naming it among the session's hosts (None when its vars
    cannot key a cache: the test gets a host of its own); fails the setup if the config is bad."""
    from ..config.fidelity import with_modes
    from ..errors import ConfigError, WorkerhostError
    from .options import with_values

    options = _options(request)
    marker = request.node.get_closest_marker(FIDELITY_MARKER)
    try:
        key, config = _loaded(session, path)
        modes: tuple[tuple[str, Any], ...] = ()
        if marker is not None:
            where = f"@pytest.mark.{FIDELITY_MARKER}"
            if marker.args:
                raise ConfigError(f"{where}: modes are keyword arguments, e.g. rate_limit=True; got {marker.args!r}")
            config = with_modes(config, marker.kwargs, where)
            modes = tuple(sorted(marker.kwargs.items()))
        config = with_values(config, options)
    except WorkerhostError as exc:
        problem = exc
    else:
        host_key: Any = (key, options.vars, options.secrets, modes) if options.hashable else None
        try:
            hash(host_key)
        except TypeError:
            host_key = None  # a mode given as a list
        return host_key, config
    _fail_setup(problem)  # outside the except clause, so the report is the one line, not a chain


@pytest.fixture
def workerhost(
    request: pytest.FixtureRequest,
    workerhost_config_path: Path,
    _workerhost_session: _Session,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Workerhost]:
    """The host running on a background event loop, with a sync client and blocking helpers."""
    from ..errors import WorkerhostError
    from .sessions import SessionHost, config_for_tests

    _claim(request, "workerhost")
    key, config = _test_config(request, _workerhost_session, workerhost_config_path)

    options = _options(request)
    own = options.fresh_modules or key is None  # a host for this test alone, stopped after it

    def start() -> SessionHost:
        return SessionHost.start(*config_for_tests(config, tmp_path_factory.mktemp("workerhost")))

    try:
        host = start() if own else _workerhost_session.pool.get(key, start)
    except WorkerhostError as exc:  # kv.yaml names a handler that does not load
        _fail_setup(exc)
    try:
        with host.test() as harness:
            harness.raise_handler_exceptions = options.raise_handler_exceptions
            yield harness
    finally:
        if own:
            host.close()


@pytest.fixture
def workerhost_client(workerhost: Workerhost) -> httpx.Client:
    """An httpx.Client against the running host (``base_url`` http://testserver)."""
    return workerhost.client


@pytest.fixture
async def workerhost_async(
    request: pytest.FixtureRequest,
    workerhost_config_path: Path,
    _workerhost_session: _Session,
    tmp_path_factory: pytest.TempPathFactory,
    anyio_backend: Any,
) -> AsyncIterator[AsyncWorkerhost]:
    """A host of the test's own on its event loop (anyio, asyncio backend), with an async client."""
    from ..errors import WorkerhostError
    from ..host.app import create_app
    from .clock import TestClock
    from .harness import running_async
    from .sessions import config_for_tests, destroy_in_thread

    backend = anyio_backend if isinstance(anyio_backend, str) else anyio_backend[0]
    if backend != "asyncio":
        _fail_setup(
            f'workerhost_async runs on asyncio, not {backend}; add a fixture "anyio_backend" returning "asyncio" '
            "to conftest.py"
        )
    _claim(request, "workerhost_async")
    _, config = _test_config(request, _workerhost_session, workerhost_config_path)
    config, shared = config_for_tests(config, tmp_path_factory.mktemp("workerhost"))
    clock = TestClock()
    app = create_app(config, clock=clock, debug=True, crons=False, throwaway=True)
    clock.start()
    try:
        try:
            async with running_async(app, clock) as harness:
                harness.raise_handler_exceptions = _options(request).raise_handler_exceptions
                yield harness
                return
        except WorkerhostError as exc:
            problem = exc
    finally:
        clock.stop()
        if shared is not None:
            destroy_in_thread(shared)
    _fail_setup(problem)


@pytest.fixture
def workerhost_async_client(workerhost_async: AsyncWorkerhost) -> httpx.AsyncClient:
    """An httpx.AsyncClient against the host running on the test's event loop."""
    return workerhost_async.client


def _harness(request: pytest.FixtureRequest) -> Any:
    """The test's running host (``workerhost`` or ``workerhost_async``), or None if it uses neither."""
    for name in _HARNESSES:
        if name in request.fixturenames:
            return request.getfixturevalue(name)
    return None


@pytest.fixture
def workerhost_clock(request: pytest.FixtureRequest) -> Iterator[TestClock]:
    """The test's clock: KV expiry, ``scheduled_time`` and handlers' ``time.time()``/``datetime.now()``.

    Time stands still from the test's start and moves with ``advance()`` (or the test's own time-machine
    or freezegun). It is the running host's clock when the test uses one.
    """
    harness = _harness(request)
    if harness is not None:
        yield harness.clock
        return
    from .clock import TestClock

    clock = TestClock()
    clock.start()
    try:
        yield clock
    finally:
        clock.stop()


@pytest.fixture
def workerhost_config(
    request: pytest.FixtureRequest,
    workerhost_config_path: Path,
    _workerhost_session: _Session,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RuntimeConfig]:
    """The config the test's host runs: kv.yaml, loaded and checked, with KV data of the test's own.

    Alone (for ``workerhost_app``), a SQLite store goes in a fresh temporary directory; a shared
    store (Redis: kv.yaml's ``storage`` or ``WORKERHOST_STORAGE``) keeps its server, under a fresh
    key prefix, deleted after the test. The markers' vars, secrets and fidelity modes are applied.
    """
    harness = _harness(request)
    if harness is not None:
        yield harness.config
        return
    from .sessions import config_for_tests, destroy_in_thread

    _, config = _test_config(request, _workerhost_session, workerhost_config_path)
    config, shared = config_for_tests(config, tmp_path_factory.mktemp("workerhost"))
    try:
        yield config
    finally:
        if shared is not None:
            destroy_in_thread(shared)


@pytest.fixture
def workerhost_app(
    request: pytest.FixtureRequest, workerhost_config: RuntimeConfig, workerhost_clock: TestClock
) -> HostApp:
    """A host app of the test's own, on its store and clock, not started: for a client of your own.

    The host opens the store when it starts and closes it when it stops, on the loop it runs on (a
    Redis client belongs to its event loop).
    """
    from ..host.app import create_app

    _claim(request, "workerhost_app")
    return create_app(workerhost_config, clock=workerhost_clock, debug=True, crons=False, throwaway=True)


@pytest.fixture
def workerhost_fetch(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A ``respx.Router`` that answers the handlers' outbound ``fetch`` for this test.

    ``workerhost_fetch.get("https://api.example.com/x").respond(json={...})``; a request no route
    matches raises respx's error in the handler (and so in the test). Nothing goes to the network.
    """
    _claim(request, "workerhost_fetch")
    try:
        import respx
    except ImportError:
        _fail_setup("workerhost_fetch answers handlers' requests with respx; install it: pip install respx")
    import httpx

    harness = _harness(request)
    if harness is None:
        _fail_setup("workerhost_fetch answers the requests of a running host's handlers: use it with workerhost")
    router = respx.Router(assert_all_called=False, assert_all_mocked=True)
    harness.route_outbound(httpx.MockTransport(router.async_handler))
    try:
        yield router
    finally:
        harness.route_outbound(None)
