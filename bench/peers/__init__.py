"""The servers a run compares, each started as a subprocess on a free loopback port.

* ``workerhost``: ``python -m runtime dev`` serving ``worker.py`` (and ``entry.py``, a ``WorkerEntrypoint``);
* ``bare``: a Starlette hello-world, on the host's own serving code and on plain ``uvicorn.run``;
* ``miniflare``: Miniflare 4 serving ``worker.mjs`` with a KV binding;
* ``wrangler``: ``wrangler dev`` serving ``worker.mjs`` (cold start and reload only), in a network namespace.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ENTRY_PY", "HERE", "WORKER_JS", "WORKER_PY"]

HERE = Path(__file__).resolve().parent
WORKER_PY = HERE / "worker.py"
ENTRY_PY = HERE / "entry.py"
WORKER_JS = HERE / "worker.mjs"
