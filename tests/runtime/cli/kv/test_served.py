"""The CLI and a running ``workerhost dev`` share one store: each sees the other's writes at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from runtime.config import DEFAULT_ACCOUNT_ID
from tests.support import ROOT, dev_server, write_files

FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: store
            script: worker.py
            routes: ["/kv/*"]
            kv_namespaces:
              - {binding: DATA, namespace: data}
    """,
    "worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            key = request.url.path.removeprefix("/kv/")
            if request.method == "PUT":
                await env.DATA.put(key, await request.body())
                return Response("stored")
            value = await env.DATA.get(key, type="bytes")
            return Response(value, status=404 if value is None else 200)
    """,
}


def _kv(project: Path, *argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # WORKERHOST_STORAGE stays: under WORKERHOST_TEST_STORAGE=redis it names the store the server uses too.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_") or k == "WORKERHOST_STORAGE"}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "runtime", "kv", *argv, "--persist-to", str(project / "data")]
    done = subprocess.run(command, cwd=project, env=env, input=stdin, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done


def test_a_running_server_and_the_cli_see_each_others_writes_at_once(tmp_path: Path) -> None:
    write_files(tmp_path, FILES)
    with dev_server(tmp_path / "kv.yaml", tmp_path / "data", args=("--no-reload",)) as server:
        http = server.client
        _kv(tmp_path, "key", "put", "from-cli", "hello", "--binding", "DATA")
        assert http.get("/kv/from-cli").content == b"hello"  # no waiting: the CLI's write is committed

        assert http.put("/kv/from-server", content=b"\x00binary\xff").text == "stored"
        assert _kv(tmp_path, "key", "get", "from-server", "--binding", "DATA").stdout == b"\x00binary\xff"

        pairs = json.dumps([{"key": f"bulk-{index}", "value": str(index)} for index in range(50)])
        _kv(tmp_path, "bulk", "put", "-", "--binding", "DATA", stdin=pairs.encode())
        assert http.get("/kv/bulk-49").content == b"49"
        _kv(tmp_path, "key", "delete", "from-cli", "--binding", "DATA")
        assert http.get("/kv/from-cli").status_code == 404

        exported = _kv(tmp_path, "export", "data").stdout
        _kv(tmp_path, "import", "copy", "-", stdin=exported)
        namespaces = http.get(f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces").json()["result"]
        assert sorted(ns["title"] for ns in namespaces) == ["copy", "data"]  # the REST API sees the CLI's namespace
        keys = [key["name"] for key in json.loads(_kv(tmp_path, "key", "list", "--binding", "DATA").stdout)]
        assert "from-server" in keys and len(keys) == 51
