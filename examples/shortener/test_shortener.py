from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from bindings import ManualClock
from runtime import create_app, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_create_then_follow_a_link(examples: httpx.Client) -> None:
    created = examples.post("/links", json={"url": "https://example.com/a", "owner": "ada", "code": "ada1"})
    assert created.status_code == 201
    body = created.json()
    assert (body["code"], body["short"], body["owner"]) == ("ada1", "/s/ada1", "ada")
    followed = examples.get("/s/ada1")
    assert (followed.status_code, followed.headers["location"]) == (302, "https://example.com/a")
    shown = examples.get("/links/ada1").json()
    assert shown["url"] == "https://example.com/a" and shown["created"] == body["created"]


def test_generated_codes_and_taken_codes(examples: httpx.Client) -> None:
    code = examples.post("/links", json={"url": "https://example.com"}).json()["code"]
    assert len(code) == 7 and examples.get(f"/s/{code}").status_code == 302
    taken = examples.post("/links", json={"url": "https://example.com", "code": code})
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://x"}, "url must be an absolute http:// or https:// URL"),
        ({"url": "https://x", "code": "no spaces"}, "code must be 1-64 letters, digits, - or _"),
        ({"url": "https://x", "ttl": 5}, "ttl must be a whole number of seconds, at least 60"),
    ],
)
def test_bad_links_are_refused(examples: httpx.Client, body: dict[str, object], message: str) -> None:
    response = examples.post("/links", json=body)
    assert (response.status_code, response.json()) == (400, {"error": message})


def test_listing_by_prefix_pages_with_a_cursor(examples: httpx.Client) -> None:
    for index in range(5):
        examples.post("/links", json={"url": f"https://example.com/{index}", "code": f"page-{index}", "owner": "bo"})
    seen, cursor = [], None
    while True:
        params = {"prefix": "page-", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = examples.get("/links", params=params).json()
        seen += [link["code"] for link in page["links"]]
        assert all(link["owner"] == "bo" for link in page["links"])
        if page["list_complete"]:
            break
        cursor = page["cursor"]
    assert seen == [f"page-{index}" for index in range(5)]


def test_delete_removes_the_link(examples: httpx.Client) -> None:
    examples.post("/links", json={"url": "https://example.com", "code": "gone"})
    assert examples.delete("/links/gone").status_code == 204
    assert examples.get("/s/gone").status_code == 404


@pytest.mark.anyio
async def test_links_with_a_ttl_expire(tmp_path: Path) -> None:
    # Expiry is judged by the injected clock, so this one runs the app in-process and moves time.
    clock = ManualClock()
    config = dataclasses.replace(load_config(ROOT / "kv.yaml", environ={}), reload=False, persist_to=tmp_path)
    app = create_app(config, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            await client.post("/links", json={"url": "https://example.com", "code": "brief", "ttl": 60})
            assert (await client.get("/s/brief")).status_code == 302
            listed = (await client.get("/links", params={"prefix": "brief"})).json()["links"]
            assert listed[0]["expiration"] == int(clock.now()) + 60
            clock.advance(61)
            assert (await client.get("/s/brief")).status_code == 404
