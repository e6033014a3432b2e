"""The ceiling: a bare Starlette hello-world, served two ways.

* ``server``: exactly as workerhost serves (``runtime.server.serve_asgi_app``: the same uvicorn
  settings, uvloop, httptools, the host's own accepting and protocol), the ceiling of this stack;
* ``plain_server``: as a user's own uvicorn app is served, ``uvicorn.run(app, host=, port=)`` with
  uvicorn's defaults (uvloop and httptools where installed, as here) and its access log off, since
  workerhost's request log is buffered and a per-request log line would only slow the peer down.

python -m bench.peers.bare PORT [--plain-uvicorn]
"""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ..procs import Server
from ..settings import REPO

__all__ = ["ENVIRONMENT", "PLAIN", "app", "plain_server", "server"]

# As for workerhost's peer: this checkout on the path, and Python's bytecode caches on.
ENVIRONMENT: dict[str, str | None] = {"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": None}
PLAIN = "--plain-uvicorn"


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


app = Starlette(routes=[Route("/", hello)])


def server(port: int, logs: Path) -> Server:
    """The bare app on ``port`` through workerhost's own serving code, not yet started."""
    command = [sys.executable, "-m", "bench.peers.bare", str(port)]
    return Server("bare", command, f"http://127.0.0.1:{port}/", logs, cwd=REPO, env=ENVIRONMENT)


def plain_server(port: int, logs: Path) -> Server:
    """The bare app on ``port`` under ``uvicorn.run``, as a user's own app runs, not yet started."""
    command = [sys.executable, "-m", "bench.peers.bare", str(port), PLAIN]
    return Server("bare-uvicorn", command, f"http://127.0.0.1:{port}/", logs, cwd=REPO, env=ENVIRONMENT)


def main(port: int, plain: bool) -> None:
    if plain:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    from runtime.server.serve import serve_asgi_app

    serve_asgi_app(app, "127.0.0.1", port)


if __name__ == "__main__":
    main(int(sys.argv[1]), PLAIN in sys.argv[2:])
