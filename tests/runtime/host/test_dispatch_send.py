"""The host sends a whole-body response's two ASGI messages itself; what it sends is exactly what the
response's own ``__call__`` would send, for every kind of response a handler returns."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bindings import ManualClock
from runtime import create_app, load_config
from tests.support import write_files

pytestmark = pytest.mark.anyio

KINDS = [
    "text",
    "bytes",
    "status",
    "json",
    "json-headers",
    "plain",
    "starlette-json",
    "html",
    "redirect",
    "empty",
    "stream",
    "background",
    "own-call",
    "streaming",
]

WORKER = """
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response as StarletteResponse
from starlette.responses import StreamingResponse
from workers import Response

DONE = []


class Shouting(StarletteResponse):
    async def __call__(self, scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-own", b"1")]})
        await send({"type": "http.response.body", "body": self.body.upper()})


async def chunks():
    yield "a"
    yield b"b"


def build(kind):
    return {
        "text": lambda: Response("hé"),
        "bytes": lambda: Response(b"\\x00\\x01", headers={"x-a": "1"}),
        "status": lambda: Response("gone", status=410, headers=[("set-cookie", "a=1"), ("set-cookie", "b=2")]),
        "json": lambda: Response.json({"v": "é", "n": [1, 2]}),
        "json-headers": lambda: Response.json({"v": 1}, 201, headers={"x-b": "2"}),
        "plain": lambda: PlainTextResponse("plain"),
        "starlette-json": lambda: JSONResponse({"a": None}),
        "html": lambda: HTMLResponse("<p>x</p>", status_code=404),
        "redirect": lambda: Response.redirect("/elsewhere", 301),
        "empty": lambda: StarletteResponse(status_code=204),
        "stream": lambda: Response(chunks()),
        "background": lambda: PlainTextResponse("later", background=BackgroundTask(DONE.append, 1)),
        "own-call": lambda: Shouting("quiet"),
        "streaming": lambda: StreamingResponse(chunks(), media_type="text/plain"),
    }[kind]()


async def fetch(request, env, ctx):
    return build(request.query_params["kind"])
"""


async def _messages(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    received = []

    async def receive() -> dict[str, Any]:
        if received:  # the client stays: a streaming response listening for a disconnect waits on
            await asyncio.Event().wait()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _scope(kind: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/x",
        "raw_path": b"/x",
        "query_string": f"kind={kind}".encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8787")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8787),
    }


@pytest.mark.parametrize("kind", KINDS)
async def test_what_the_host_sends_is_what_the_response_sends(tmp_path: Path, kind: str) -> None:
    write_files(
        tmp_path,
        {"kv.yaml": 'workers:\n  - name: w\n    script: worker.py\n    routes: ["/*"]\n', "worker.py": WORKER},
    )
    config = dataclasses.replace(load_config(tmp_path / "kv.yaml", environ={}), reload=False)
    app = create_app(config, clock=ManualClock(1_700_000_000.0), api=False, crons=False)
    async with app.router.lifespan_context(app):
        through_host = await _messages(app, _scope(kind))
        worker = app.workerhost.version.workers["w"]  # type: ignore[union-attr]
        module = worker.module
        response = module.build(kind)
        direct = await _messages(response, _scope(kind))
        assert through_host == direct
        assert through_host[0]["type"] == "http.response.start"
        if kind == "background":
            assert module.DONE == [1, 1]  # the host ran it too, after sending
