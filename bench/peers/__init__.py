"""The servers a run compares, each started as a subprocess on a free loopback port.

* ``workerhost``: ``python -m runtime dev`` serving ``worker.py``;
* ``bare``: a Starlette hello-world on the host's own uvicorn settings, the ceiling of this stack;
* ``miniflare``: Miniflare 4 serving ``worker.mjs`` with a KV binding;
* ``wrangler``: ``wrangler dev`` serving ``worker.mjs`` (cold start and reload only), in a network namespace.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["HERE", "WORKER_JS", "WORKER_PY"]

HERE = Path(__file__).resolve().parent
WORKER_PY = HERE / "worker.py"
WORKER_JS = HERE / "worker.mjs"
