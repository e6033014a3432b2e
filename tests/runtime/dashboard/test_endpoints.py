"""The dashboard's page and its own endpoints, driven in-process: headers, tokens, stats, export and import."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bindings import ManualClock, SqliteStore
from bindings.storage.base import Write
from runtime import create_app, load_config
from runtime.dashboard.page import _files
from runtime.dashboard.stats import count_namespace
from tests.support import app_client, write_files

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000.0
ACCOUNT = "0123456789abcdef0123456789abcdef"
NAMESPACES = f"/client/v4/accounts/{ACCOUNT}/storage/kv/namespaces"
WRITE, READ = "write-token-0123456789", "read-token-0123456789"
FILES = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: app
            script: worker.py
            routes: ["/app/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
    """,
    "worker.py": """
        from runtime import Response

        async def fetch(request, env, ctx):
            return Response("ok")
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "project", FILES)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


async def _client(project: Path, clock: ManualClock, environ: dict[str, str] | None = None) -> Any:
    config = dataclasses.replace(load_config(project / "kv.yaml", environ=environ or {}), reload=False)
    return app_client(create_app(config, clock=clock, crons=False, live_feed=True))


@pytest.fixture
async def client(project: Path, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(project, clock) as opened:
        yield opened


@pytest.fixture
async def tokened(project: Path, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    environ = {"WORKERHOST_API_TOKENS": WRITE, "WORKERHOST_API_READ_TOKENS": READ}
    async with await _client(project, clock, environ) as opened:
        yield opened


async def _namespace(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> str:
    listed = (await client.get(NAMESPACES, headers=headers)).json()["result"]
    return str(next(n["id"] for n in listed if n["title"] == "data"))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# --- the page ------------------------------------------------------------------------------------


async def test_the_page_allows_only_its_own_scripts(client: httpx.AsyncClient) -> None:
    page = await client.get("/__workerhost/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "require-trusted-types-for 'script'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    # No inline script or style, no handler attribute: the policy would block them anyway.
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert scripts and all("src=" in tag for tag in scripts)
    assert not re.search(r"<style\b|\son[a-z]+=|style=", page.text)
    script = await client.get("/__workerhost/assets/app.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["content-security-policy"] == policy
    again = await client.get("/__workerhost/assets/app.js", headers={"if-none-match": script.headers["etag"]})
    assert again.status_code == 304


async def test_the_scripts_never_parse_html_from_strings() -> None:
    for name, (data, _, _) in _files().items():
        if name.endswith(".js"):
            code = "\n".join(line for line in data.decode().splitlines() if not line.lstrip().startswith("//"))
            assert not re.search(PARSES_HTML, code), name


PARSES_HTML = r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"


@pytest.mark.parametrize(
    "path", ["/__workerhost/assets/..%2fpage.py", "/__workerhost/assets/page.py", "/__workerhost/assets/nope.js"]
)
async def test_only_the_packages_static_files_are_served(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 404


async def test_the_dev_routes_keep_their_paths(client: httpx.AsyncClient) -> None:
    assert (await client.get("/__workerhost/status")).json()["workers"][0]["name"] == "app"
    moved = await client.get("/__workerhost/index.html", follow_redirects=False)
    assert moved.headers["location"] == "/__workerhost/"


# --- the session ---------------------------------------------------------------------------------


async def test_without_tokens_everyone_may_write(client: httpx.AsyncClient) -> None:
    assert (await client.get("/__workerhost/api/session")).json() == {
        "access": "write",
        "tokens": False,
        "account_id": ACCOUNT,
    }


async def test_with_tokens_the_session_says_what_the_token_allows(tokened: httpx.AsyncClient) -> None:
    refused = await tokened.get("/__workerhost/api/session")
    assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == 10000
    assert (await tokened.get("/__workerhost/api/session", headers=bearer("wrong"))).status_code == 401
    assert (await tokened.get("/__workerhost/api/session", headers=bearer(READ))).json()["access"] == "read"
    assert (await tokened.get("/__workerhost/api/session", headers=bearer(WRITE))).json()["access"] == "write"
    assert (await tokened.get("/__workerhost/")).status_code == 200  # the page itself holds no data


# --- stats ---------------------------------------------------------------------------------------


async def test_stats_count_live_keys_and_their_bytes(client: httpx.AsyncClient, clock: ManualClock) -> None:
    namespace = await _namespace(client)
    values = f"{NAMESPACES}/{namespace}/values"
    await client.put(f"{values}/abc", content=b"12345")
    await client.put(f"{values}/meta", files={"value": (None, b"xy"), "metadata": (None, b'{"a":1}')})
    await client.put(f"{values}/brief?expiration_ttl=60", content=b"gone soon")
    stats = await client.get(f"/__workerhost/api/namespaces/{namespace}/stats")
    assert stats.json() == {"keys": 3, "bytes": (3 + 5) + (4 + 2 + 7) + (5 + 9), "complete": True}
    clock.advance(61)
    stats = await client.get(f"/__workerhost/api/namespaces/{namespace}/stats")
    assert stats.json() == {"keys": 2, "bytes": 8 + 13, "complete": True}


async def test_stats_of_a_missing_namespace_are_cloudflares_404(client: httpx.AsyncClient) -> None:
    for namespace in ["f" * 32, "not-an-id"]:
        missing = await client.get(f"/__workerhost/api/namespaces/{namespace}/stats")
        assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == 10013


async def test_counting_stops_at_its_limit_and_says_so(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "data")
    try:
        info = await store.create_namespace("big")
        storage = await store.namespace(info.id)
        await storage.put_many([Write(b"k%05d" % i, b"v") for i in range(2500)])
        counted = await count_namespace(storage, NOW, limit=1200)
        assert (counted.keys, counted.complete) == (1200, False)
        whole = await count_namespace(storage, NOW)
        assert (whole.keys, whole.bytes, whole.complete) == (2500, 2500 * 7, True)
    finally:
        await store.close()


# --- export and import ---------------------------------------------------------------------------


async def test_export_then_import_is_lossless_and_in_the_clis_format(client: httpx.AsyncClient) -> None:
    namespace = await _namespace(client)
    values = f"{NAMESPACES}/{namespace}/values"
    await client.put(f"{values}/text", files={"value": (None, "ünïcode ✓".encode()), "metadata": (None, b'{"t":1}')})
    await client.put(f"{values}/binary?expiration={int(NOW) + 3600}", content=b"\x00\xff\xfe")
    exported = await client.get(f"/__workerhost/api/namespaces/{namespace}/export")
    assert exported.headers["content-disposition"].startswith('attachment; filename="data.jsonl"')
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert lines[0]["format"] == "workerhost-kv-export" and lines[0]["namespace"] == {"id": namespace, "title": "data"}
    assert lines[1:] == [
        {"key": "binary", "value": "AP/+", "base64": True, "expiration": int(NOW) + 3600},
        {"key": "text", "value": "ünïcode ✓", "metadata": {"t": 1}},
        {"end": True, "count": 2},
    ]
    copy = (await client.post(NAMESPACES, json={"title": "copy"})).json()["result"]["id"]
    imported = await client.post(f"/__workerhost/api/namespaces/{copy}/import", content=exported.content)
    assert imported.json() == {"imported": 2, "expired": 0, "namespace": copy}
    again = await client.get(f"/__workerhost/api/namespaces/{copy}/export")
    assert again.text.splitlines()[1:] == exported.text.splitlines()[1:]


async def test_a_bad_line_refuses_the_whole_import_and_names_the_line(client: httpx.AsyncClient) -> None:
    namespace = await _namespace(client)
    header = json.dumps({"format": "workerhost-kv-export", "version": 1, "namespace": {}, "exported_at": 0})
    body = "\n".join([header, '{"key": "a", "value": "1"}', '{"key": "' + "k" * 513 + '", "value": "2"}'])
    body += '\n{"end": true, "count": 2}\n'
    refused = await client.post(f"/__workerhost/api/namespaces/{namespace}/import", content=body)
    assert refused.status_code == 414
    assert "line 3: KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512." in refused.text
    incomplete = await client.post(f"/__workerhost/api/namespaces/{namespace}/import", content=header + "\n")
    assert incomplete.status_code == 400 and "the export is incomplete" in incomplete.text
    assert (await client.get(f"{NAMESPACES}/{namespace}/keys")).json()["result"] == []


async def test_a_read_token_exports_but_cannot_import(tokened: httpx.AsyncClient) -> None:
    namespace = await _namespace(tokened, bearer(WRITE))
    exported = await tokened.get(f"/__workerhost/api/namespaces/{namespace}/export", headers=bearer(READ))
    assert exported.status_code == 200
    refused = await tokened.post(
        f"/__workerhost/api/namespaces/{namespace}/import", content=exported.content, headers=bearer(READ)
    )
    assert refused.status_code == 403
    assert (await tokened.get(f"/__workerhost/api/namespaces/{namespace}/export")).status_code == 401
    assert (await tokened.get(f"/__workerhost/api/namespaces/{namespace}/stats")).status_code == 401
    assert (await tokened.get("/__workerhost/api/changes")).status_code == 401


async def test_an_encrypted_store_exports_plaintext_and_imports_sealed(tmp_path: Path, clock: ManualClock) -> None:
    """The dashboard's own endpoints go through the keyed store like the REST API (README "Encryption at rest")."""
    import sqlite3

    from bindings.storage.encryption import new_key_text

    files = dict(FILES, **{"kv.yaml": "\n        encryption: {key_env: DASH_KEY}" + FILES["kv.yaml"]})
    project = write_files(tmp_path / "sealed", files)
    async with await _client(project, clock, {"DASH_KEY": new_key_text()}) as client:
        namespace = await _namespace(client)
        secret = "PLAINTEXT-through-the-dashboard"
        await client.put(f"{NAMESPACES}/{namespace}/values/note", content=secret.encode())
        exported = await client.get(f"/__workerhost/api/namespaces/{namespace}/export")
        assert json.loads(exported.text.splitlines()[1]) == {"key": "note", "value": secret}
        copy = (await client.post(NAMESPACES, json={"title": "copy"})).json()["result"]["id"]
        imported = await client.post(f"/__workerhost/api/namespaces/{copy}/import", content=exported.content)
        assert imported.json()["imported"] == 1
        assert (await client.get(f"{NAMESPACES}/{copy}/values/note")).text == secret
        stats = await client.get(f"/__workerhost/api/namespaces/{copy}/stats")
        assert stats.json()["keys"] == 1
    stored = b""
    for path in (project / ".workerhost" / "kv").glob("*.sqlite3"):
        connection = sqlite3.connect(path)
        try:
            if path.name != "catalog.sqlite3":
                stored += b"".join(bytes(row[0]) for row in connection.execute("SELECT value FROM entries"))
        finally:
            connection.close()
    assert stored and secret.encode() not in stored
