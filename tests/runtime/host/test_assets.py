"""Static assets resolved as Cloudflare resolves them: html_handling modes, not-found modes, and no way out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.config.model import AssetsConfig
from runtime.host.assets import AssetServer, content_type
from tests.support import write_files

FILES = {
    "index.html": "home",
    "about.html": "about",
    "docs/index.html": "docs",
    "blog/404.html": "blog missing",
    "404.html": "missing",
    "_headers": "/*\n  X-A: 1",
    "style.css": "css",
}


def server(root: Path, **settings: object) -> AssetServer:
    write_files(root / "public", FILES)
    config = AssetsConfig(root / "public", "public", **settings)  # type: ignore[arg-type]
    return AssetServer(config, has_worker=False)


async def answer(assets: AssetServer, path: str, method: str = "GET", **headers: str) -> tuple[int, str, str]:
    response = await assets.respond(method, path, "", headers)
    return response.status_code, response.headers.get("location", ""), bytes(response.body).decode()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("handling", "path", "expected"),
    [
        ("auto-trailing-slash", "/", (200, "", "home")),
        ("auto-trailing-slash", "/about", (200, "", "about")),
        ("auto-trailing-slash", "/about.html", (307, "/about", "")),
        ("auto-trailing-slash", "/docs", (307, "/docs/", "")),
        ("auto-trailing-slash", "/docs/index.html", (307, "/docs/", "")),
        ("auto-trailing-slash", "/index.html", (307, "/", "")),
        ("force-trailing-slash", "/about", (307, "/about/", "")),
        ("force-trailing-slash", "/about/", (200, "", "about")),
        ("drop-trailing-slash", "/docs/", (307, "/docs", "")),
        ("drop-trailing-slash", "/docs", (200, "", "docs")),
        ("none", "/about", (404, "", "")),
        ("none", "/about.html", (200, "", "about")),
    ],
)
async def test_html_handling_modes(tmp_path: Path, handling: str, path: str, expected: tuple[int, str, str]) -> None:
    assert await answer(server(tmp_path, html_handling=handling), path) == expected


@pytest.mark.anyio
async def test_not_found_modes(tmp_path: Path) -> None:
    spa = server(tmp_path, not_found_handling="single-page-application")
    assert await answer(spa, "/any/client/route") == (200, "", "home")
    page = server(tmp_path, not_found_handling="404-page")
    assert await answer(page, "/blog/2024/gone") == (404, "", "blog missing")  # the nearest 404.html
    assert await answer(page, "/elsewhere") == (404, "", "missing")
    assert await answer(server(tmp_path), "/elsewhere") == (404, "", "")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/docs/%2E%2E%2F..%2Fsecret.txt",
        "/..%5Csecret.txt",
        "/a%00b",
        "/_headers",
    ],
)
async def test_nothing_outside_the_directory_nor_its_control_files_is_served(tmp_path: Path, path: str) -> None:
    assets = server(tmp_path)
    (tmp_path / "secret.txt").write_text("secret")
    status, _, body = await answer(assets, path)
    assert status == 404 and body == ""


@pytest.mark.anyio
async def test_a_symlink_out_of_the_directory_is_not_followed(tmp_path: Path) -> None:
    assets = server(tmp_path)
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", tmp_path / "public" / "link.txt")
    assert (await answer(assets, "/link.txt"))[0] == 404


@pytest.mark.anyio
async def test_methods_head_and_etags(tmp_path: Path) -> None:
    assets = server(tmp_path)
    assert (await answer(assets, "/style.css", "POST"))[0] == 405
    head = await assets.respond("HEAD", "/style.css", "", {})
    assert (head.status_code, head.body, head.headers["content-length"]) == (200, b"", "3")
    etag = head.headers["etag"]
    assert (await answer(assets, "/style.css", **{"if-none-match": etag}))[0] == 304
    (tmp_path / "public" / "style.css").write_text("changed")
    assert (await answer(assets, "/style.css", **{"if-none-match": etag}))[:3] == (200, "", "changed")


def test_content_types_are_cloudflares() -> None:
    assert [content_type(name) for name in ("a.html", "a.css", "a.js", "a.svg", "a.ico", "a.json", "a.wasm", "x")] == [
        "text/html; charset=utf-8",
        "text/css; charset=utf-8",
        "text/javascript; charset=utf-8",
        "image/svg+xml",
        "image/vnd.microsoft.icon",
        "application/json",
        "application/wasm",
        None,
    ]
