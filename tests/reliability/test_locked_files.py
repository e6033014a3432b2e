"""A namespace file another process holds locked (a ``sqlite3`` shell inside ``BEGIN IMMEDIATE``) delays only
its own writes, for at most the lock timeout, and then they fail clearly: REST answers 503 in Cloudflare's
envelope, and nothing was written. Other namespaces, and creating namespaces, go on meanwhile.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.bindings.storage.sqlite.lock_holder import holding_write_lock
from tests.support import DevServer, write_files

from .support import NAMESPACES

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: locked
          - title: free
        workers:
          - name: w
            script: w.py
            routes: ["/w/*"]
            kv_namespaces:
              - {binding: LOCKED, namespace: locked}
              - {binding: FREE, namespace: free}
    """,
    "w.py": """
        from runtime import Response


        async def fetch(request, env, ctx):
            kv = env[request.query_params["ns"]]
            await kv.put(request.query_params["key"], await request.body())
            return Response("stored")
    """,
}


def test_a_locked_namespace_delays_only_its_own_writes_then_they_fail_with_503(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", PROJECT)
    # A long timeout first: the locked write must still be waiting while everything else goes on.
    server = DevServer(project / "kv.yaml", tmp_path / "data", env={"WORKERHOST_LOCK_TIMEOUT": "30"}).start()
    try:
        ids = {b["name"]: b["namespace_id"] for b in server.status()["workers"][0]["bindings"]}
        locked_file = tmp_path / "data" / "kv" / f"{ids['LOCKED']}.sqlite3"
        with ThreadPoolExecutor(1) as pool, holding_write_lock(locked_file):
            waiting = pool.submit(httpx.put, f"{server.url}/w/put?ns=LOCKED&key=k", content=b"v", timeout=60)
            assert server.client.put("/w/put", params={"ns": "FREE", "key": "k"}, content=b"v").status_code == 200
            assert server.client.put(f"{NAMESPACES}/{ids['FREE']}/values/r", content=b"v").status_code == 200
            assert server.client.post(NAMESPACES, json={"title": "created meanwhile"}).status_code == 200
            assert not waiting.done()
        assert waiting.result().status_code == 200  # queued, not failed, once the lock was let go
    finally:
        server.stop()

    server = DevServer(project / "kv.yaml", tmp_path / "data", env={"WORKERHOST_LOCK_TIMEOUT": "0.5"}).start()
    try:
        with holding_write_lock(locked_file):
            refused = server.client.put(f"{NAMESPACES}/{ids['LOCKED']}/values/late", content=b"v")
            assert server.client.put("/w/put", params={"ns": "FREE", "key": "k2"}, content=b"v").status_code == 200
        assert refused.status_code == 503
        assert refused.json() == {
            "success": False,
            "errors": [
                {
                    "code": 10002,
                    "message": f"namespace {ids['LOCKED']} is locked by another process: its write lock was not "
                    "free within 0.5 s; nothing was written",
                }
            ],
            "messages": [],
            "result": None,
        }
        assert server.client.get(f"{NAMESPACES}/{ids['LOCKED']}/values/late").status_code == 404
        assert server.client.put(f"{NAMESPACES}/{ids['LOCKED']}/values/late", content=b"v").status_code == 200
    finally:
        server.stop()
