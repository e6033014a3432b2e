"""Fixtures for REST API tests: the real app behind a real uvicorn server, over real HTTP.

One server runs for the whole session on a free 127.0.0.1 port, in a thread with its own event
loop. Each test gets a fresh store (in its tmp dir, or on Redis with ``WORKERHOST_TEST_STORAGE=redis``),
a manual clock and a fresh API app, which the server is switched to; async store calls from a test
run on the server's loop through ``run``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from cloudflare import Cloudflare
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from bindings import KVNamespace, ManualClock, Store, open_store
from bindings.fidelity import Fidelity
from runtime.api import create_api
from runtime.api.ratelimit import ApiRateLimiter
from runtime.config import ApiConfig
from tests.redis_fixtures import store_location

T = TypeVar("T")

ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
WRITE_TOKEN = "write-token-0123456789"
READ_TOKEN = "read-token-0123456789"
TOKENS = ApiConfig(tokens=frozenset({WRITE_TOKEN}), read_tokens=frozenset({READ_TOKEN}))
OPEN = ApiConfig()
TIME_NOW = 1_000_000
PREFIX = "/client/v4"


class _Switchboard:
    """The ASGI app the server runs: serves the current test's API under ``/client/v4``.

    It mounts the API as the host does, by prefix, setting ``root_path`` (Starlette's ``Mount``
    would miss paths holding an encoded newline, which KV keys may contain).
    """

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.app({**scope, "root_path": scope.get("root_path", "") + PREFIX}, receive, send)
        else:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)


class LiveServer:
    """uvicorn in a background thread, on a port of its own."""

    def __init__(self) -> None:
        self.switchboard = _Switchboard()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(self.switchboard, lifespan="off", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="api-test-server", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self.socket]))
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def start(self) -> None:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return
            self.thread.join(0.01)
        raise RuntimeError("the API test server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.socket.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (where the store's async calls belong) and wait."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)


class LiveApi:
    """One test's API: its store, clock and app, served by the session's server."""

    def __init__(self, server: LiveServer, store: Store, clock: ManualClock) -> None:
        self.server = server
        self.store = store
        self.clock = clock
        self.account_id = ACCOUNT_ID
        self.root = f"http://127.0.0.1:{server.port}{PREFIX}"
        self.base = f"{self.root}/accounts/{ACCOUNT_ID}/storage/kv/namespaces"
        self.http = httpx.Client(timeout=60)
        self._sdks: list[Cloudflare] = []
        self.fidelity: Fidelity | None = None
        self.use(OPEN)

    def use(
        self, auth: ApiConfig, *, fidelity: Fidelity | None = None, rate_limiter: ApiRateLimiter | None = None
    ) -> None:
        """Serve a new API app on the same store, with these tokens (and production-fidelity modes)."""
        self.fidelity = fidelity
        self.server.switchboard.app = create_api(
            self.store,
            clock=self.clock,
            account_id=ACCOUNT_ID,
            auth=auth,
            fidelity=fidelity,
            rate_limiter=rate_limiter,
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.server.run(coroutine)

    def sdk(self, **credentials: str) -> Cloudflare:
        """The real ``cloudflare`` SDK pointed at this server (closed after the test)."""
        credentials = credentials or {"api_token": WRITE_TOKEN}
        client = Cloudflare(base_url=self.root, max_retries=0, **credentials)
        self._sdks.append(client)
        return client

    def namespace(self, title: str = "test") -> str:
        """Create a namespace in the store directly; returns its id."""
        return self.run(self.store.create_namespace(title)).id

    def binding(self, namespace_id: str) -> KVNamespace:
        """A handler's binding on the same store (and fidelity state), to check that REST and binding writes meet."""
        state = None if self.fidelity is None else self.fidelity.current(namespace_id)
        return KVNamespace(self.run(self.store.namespace(namespace_id)), self.clock, fidelity=state)

    def values(self, namespace_id: str, key: str) -> str:
        return f"{self.base}/{namespace_id}/values/{key}"

    def close(self) -> None:
        for client in self._sdks:
            client.close()
        self.http.close()
        self.run(self.store.close())


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    server = LiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def api(live_server: LiveServer, tmp_path: Path) -> Iterator[LiveApi]:
    # SQLite in the test's directory, or its own prefix on Redis under WORKERHOST_TEST_STORAGE=redis.
    live = LiveApi(live_server, open_store(store_location(tmp_path / "persist")), ManualClock(TIME_NOW))
    yield live
    live.close()


@pytest.fixture
def ns(api: LiveApi) -> str:
    """A namespace to work in."""
    return api.namespace()


def assert_cf_error(response: httpx.Response, *, status: int, code: int, message: str | None = None) -> None:
    """The response is Cloudflare's failure envelope with this status, first error code and message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["result"] is None
    assert body["messages"] == []
    assert body["errors"][0]["code"] == code, body
    if message is not None:
        assert body["errors"][0]["message"] == message


def result_of(response: httpx.Response) -> Any:
    """The ``result`` of a success envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body["result"]
