"""Serving the host: the socket, uvicorn, accepting connections, worker processes and logging.

    serve.py        ``serve(config)``: bind, load, then hand the app to uvicorn (what ``workerhost dev`` runs)
    uvicorn_server.py  the one place uvicorn's internals are touched
    accept.py       accepting connections in bursts
    processes.py    ``--workers N``: forked processes on one socket
    banner.py       the start-up banner
    logs.py         where the host's log goes
"""

from __future__ import annotations

from .serve import serve, serve_asgi_app

__all__ = ["serve", "serve_asgi_app"]
