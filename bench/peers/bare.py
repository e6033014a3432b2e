"""The ceiling: a bare Starlette hello-world served exactly as workerhost serves (``runtime.server.serve_asgi_app``).

python -m bench.peers.bare PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from runtime.server.serve import serve_asgi_app

from ..procs import Server
from ..settings import REPO

__all__ = ["ENVIRONMENT", "app", "server"]

# As for workerhost's peer: this checkout on the path, and Python's bytecode caches on.
ENVIRONMENT: dict[str, str | None] = {"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": None}


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world!")


app = Starlette(routes=[Route("/", hello)])


def server(port: int, logs: Path) -> Server:
    """The bare app on ``port``, not yet started."""
    command = [sys.executable, "-m", "bench.peers.bare", str(port)]
    return Server("bare", command, f"http://127.0.0.1:{port}/", logs, cwd=REPO, env=ENVIRONMENT)


def main(port: int) -> None:
    serve_asgi_app(app, "127.0.0.1", port)


if __name__ == "__main__":
    main(int(sys.argv[1]))
