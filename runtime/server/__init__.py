"""Serving the host: the socket, uvicorn, accepting connections, worker processes and logging.

    serve.py        ``serve(config)``: bind, load, then hand the app to uvicorn (what ``workerhost dev`` runs)
    uvicorn_server.py  the one place uvicorn's internals are touched: the server, and the HTTP protocol
    limits.py       what a connection may take: the size of a request's head, the header and idle timeouts
    accept.py       accepting connections in bursts, backing off when out of descriptors
    processes.py    ``--workers N``: forked processes on one socket
    banner.py       the start-up banner
    logs.py         where the host's log goes
"""

from __future__ import annotations

from .serve import serve, serve_asgi_app

__all__ = ["serve", "serve_asgi_app"]
