"""Requests other web pages make through a browser reach neither the REST API, the dashboard nor the dev
routes (CSRF, DNS rebinding), and worker routes are left alone (README "Dashboard")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from runtime import create_app, load_config
from tests.support import app_client, dev_server, write_files

FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: app
            script: worker.py
            routes: ["/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
            triggers: {crons: ["0 * * * *"]}
    """,
    "worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            return Response("app " + request.headers.get("host", ""))

        async def scheduled(controller, env, ctx):
            await env.KV.put("ran", "yes")
    """,
}
ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACES = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
EVIL = {"origin": "https://evil.example", "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "project", FILES)


def _config(project: Path, environ: dict[str, str] | None = None) -> object:
    return dataclasses.replace(load_config(project / "kv.yaml", environ=environ or {}), reload=False)


@pytest.mark.anyio
async def test_another_pages_requests_are_refused_on_every_host_surface(project: Path) -> None:
    app = create_app(_config(project), crons=False)  # type: ignore[arg-type]
    async with app_client(app) as client:
        for method, path in [
            ("POST", NAMESPACES),
            ("GET", NAMESPACES),
            ("GET", "/__workerhost/status"),
            ("POST", "/__workerhost/scheduled?worker=app"),
            ("GET", "/__scheduled?cron=0+*+*+*+*"),
            ("GET", "/__workerhost/"),
        ]:
            response = await client.request(method, path, headers=EVIL, json={"title": "planted"})
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["errors"][0]["code"] == 10000
            assert "evil.example" in response.json()["errors"][0]["message"]
        # An <img> on another site sends no Origin, only Sec-Fetch-Site: the cron does not run.
        image = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image"}
        assert (await client.get("/__scheduled?cron=0+*+*+*+*", headers=image)).status_code == 403
        listed = (await client.get(NAMESPACES)).json()["result"]
        assert [n["title"] for n in listed] == ["data"]  # nothing was created
        keys = (await client.get(f"{NAMESPACES}/{listed[0]['id']}/keys")).json()["result"]
        assert keys == []  # no scheduled handler ran
        # The user's own application takes requests from anywhere, as it would on Cloudflare.
        assert (await client.get("/hello", headers=EVIL)).text == "app testserver"


@pytest.mark.anyio
async def test_the_hosts_own_pages_and_non_browser_clients_pass(project: Path) -> None:
    app = create_app(_config(project), crons=False)  # type: ignore[arg-type]
    async with app_client(app) as client:
        own = {"origin": "http://testserver", "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"}
        assert (await client.post(NAMESPACES, json={"title": "mine"}, headers=own)).status_code == 200
        assert (await client.post("/__workerhost/scheduled?worker=app", headers=own)).status_code == 200
        assert (await client.get("/__workerhost/status")).status_code == 200


@pytest.mark.anyio
async def test_in_process_the_host_name_is_not_checked(project: Path) -> None:
    # The pytest plugin's client talks to http://testserver: no socket, so nothing to rebind.
    app = create_app(_config(project), crons=False)  # type: ignore[arg-type]
    async with app_client(app) as client:
        assert (await client.get(NAMESPACES, headers={"host": "evil.example"})).status_code == 200


@pytest.mark.anyio
async def test_served_on_a_socket_a_rebound_name_is_refused(project: Path) -> None:
    app = create_app(_config(project), crons=False, network=True)  # type: ignore[arg-type]
    async with app_client(app) as client:
        rebound = {"host": "evil.example:8787", "origin": "http://evil.example:8787"}
        response = await client.post(NAMESPACES, json={"title": "planted"}, headers=rebound)
        assert response.status_code == 403
        assert "not a loopback name" in response.json()["errors"][0]["message"]
        assert (await client.get("/__workerhost/status", headers={"host": "evil.example"})).status_code == 403
        assert (await client.get("/anything", headers={"host": "evil.example"})).text == "app evil.example"
        assert (await client.get(NAMESPACES, headers={"host": "localhost:8787"})).status_code == 200


@pytest.mark.anyio
async def test_with_tokens_any_host_name_passes_and_the_token_is_the_defence(project: Path) -> None:
    environ = {"WORKERHOST_API_TOKENS": "write-token-123456"}
    app = create_app(_config(project, environ), crons=False, network=True)  # type: ignore[arg-type]
    async with app_client(app) as client:
        named = {"host": "devbox.lan:8787"}
        assert (await client.get(NAMESPACES, headers=named)).status_code == 401
        authorized = {**named, "authorization": "Bearer write-token-123456"}
        assert (await client.get(NAMESPACES, headers=authorized)).status_code == 200
        assert (await client.get(NAMESPACES, headers={**authorized, **EVIL})).status_code == 403


def test_workerhost_dev_checks_host_and_origin_over_http(project: Path, tmp_path: Path) -> None:
    with dev_server(project / "kv.yaml", tmp_path / "data") as server:
        url = server.url + NAMESPACES
        rebound = httpx.post(url, json={"title": "x"}, headers={"host": "evil.example", "origin": "http://evil.example"})
        assert rebound.status_code == 403
        assert httpx.post(url, json={"title": "x"}, headers=EVIL).status_code == 403
        assert httpx.get(url).status_code == 200
        assert httpx.get(url.replace("127.0.0.1", "localhost")).status_code == 200
        assert [n["title"] for n in httpx.get(url).json()["result"]] == ["data"]
