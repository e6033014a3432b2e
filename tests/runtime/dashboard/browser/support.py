"""What the dashboard's browser tests share: a project to serve, REST helpers to check results, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.support import ROOT, DevServer

ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACES = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: app
            script: worker.py
            routes: ["/app/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
            vars: {GREETING: hello}
            triggers: {crons: ["*/30 * * * *"]}
    """,
    "worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            await env.KV.put("from-handler", "1")
            return Response("ok")

        async def scheduled(controller, env, ctx):
            await env.KV.put("cron-ran", controller.cron)
    """,
}


class Rest:
    """The REST API of a running host, to set data up and check what the dashboard did."""

    def __init__(self, server: DevServer, token: str | None = None) -> None:
        self.client = server.client
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    def namespaces(self) -> dict[str, str]:
        """Title → id of every namespace."""
        listed = self.client.get(NAMESPACES, params={"per_page": 1000}, headers=self.headers).json()["result"]
        return {n["title"]: n["id"] for n in listed}

    def create(self, title: str) -> str:
        response = self.client.post(NAMESPACES, json={"title": title}, headers=self.headers)
        assert response.status_code == 200, response.text
        return str(response.json()["result"]["id"])

    def put(self, namespace: str, key: str, value: bytes, metadata: Any = None, **query: Any) -> httpx.Response:
        url = f"{NAMESPACES}/{namespace}/values/{quote(key, safe='')}"
        if metadata is None:
            return self.client.put(url, content=value, params=query, headers=self.headers)
        files = {"value": (None, value), "metadata": (None, json.dumps(metadata).encode())}
        return self.client.put(url, files=files, params=query, headers=self.headers)

    def bulk(self, namespace: str, pairs: list[dict[str, Any]]) -> None:
        assert self.client.put(f"{NAMESPACES}/{namespace}/bulk", json=pairs, headers=self.headers).status_code == 200

    def value(self, namespace: str, key: str) -> httpx.Response:
        return self.client.get(f"{NAMESPACES}/{namespace}/values/{quote(key, safe='')}", headers=self.headers)

    def keys(self, namespace: str, prefix: str = "") -> list[dict[str, Any]]:
        """Every key (with its expiration and metadata), paging through."""
        found: list[dict[str, Any]] = []
        cursor = ""
        while True:
            params = {"limit": 1000, "prefix": prefix, "cursor": cursor}
            body = self.client.get(f"{NAMESPACES}/{namespace}/keys", params=params, headers=self.headers).json()
            found += body["result"]
            cursor = body["result_info"]["cursor"]
            if not cursor:
                return found


def cli(project: Path, data: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``workerhost kv ...`` in another process, on the host's data."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "runtime", "kv", *args, "--config", str(project / "kv.yaml")]
    return subprocess.run([*command, "--persist-to", str(data)], env=env, cwd=project, capture_output=True, timeout=60)
