"""Tests for the shortener example, on workerhost's pytest plugin (fresh storage and a movable clock per test)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from runtime.testing import Workerhost


def test_create_then_follow_a_link(workerhost_client: httpx.Client) -> None:
    created = workerhost_client.post("/links", json={"url": "https://example.com/a", "owner": "ada", "code": "ada1"})
    assert created.status_code == 201
    body = created.json()
    assert (body["code"], body["short"], body["owner"]) == ("ada1", "/s/ada1", "ada")
    followed = workerhost_client.get("/s/ada1")
    assert (followed.status_code, followed.headers["location"]) == (302, "https://example.com/a")
    shown = workerhost_client.get("/links/ada1").json()
    assert shown["url"] == "https://example.com/a" and shown["created"] == body["created"]


def test_generated_codes_and_taken_codes(workerhost_client: httpx.Client) -> None:
    code = workerhost_client.post("/links", json={"url": "https://example.com"}).json()["code"]
    assert len(code) == 7 and workerhost_client.get(f"/s/{code}").status_code == 302
    taken = workerhost_client.post("/links", json={"url": "https://example.com", "code": code})
    assert taken.status_code == 409


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://x"}, "url must be an absolute http:// or https:// URL"),
        ({"url": "https://x", "code": "no spaces"}, "code must be 1-64 letters, digits, - or _"),
        ({"url": "https://x", "ttl": 5}, "ttl must be a whole number of seconds, at least 60"),
    ],
)
def test_bad_links_are_refused(workerhost_client: httpx.Client, body: dict[str, object], message: str) -> None:
    response = workerhost_client.post("/links", json=body)
    assert (response.status_code, response.json()) == (400, {"error": message})


def test_listing_by_prefix_pages_with_a_cursor(workerhost_client: httpx.Client) -> None:
    for index in range(5):
        link = {"url": f"https://example.com/{index}", "code": f"page-{index}", "owner": "bo"}
        workerhost_client.post("/links", json=link)
    seen, cursor = [], None
    while True:
        params = {"prefix": "page-", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = workerhost_client.get("/links", params=params).json()
        seen += [link["code"] for link in page["links"]]
        assert all(link["owner"] == "bo" for link in page["links"])
        if page["list_complete"]:
            break
        cursor = page["cursor"]
    assert seen == [f"page-{index}" for index in range(5)]


def test_delete_removes_the_link(workerhost_client: httpx.Client) -> None:
    workerhost_client.post("/links", json={"url": "https://example.com", "code": "gone"})
    assert workerhost_client.delete("/links/gone").status_code == 204
    assert workerhost_client.get("/s/gone").status_code == 404


def test_links_with_a_ttl_expire(workerhost: Workerhost) -> None:
    workerhost.client.post("/links", json={"url": "https://example.com", "code": "brief", "ttl": 60})
    assert workerhost.client.get("/s/brief").status_code == 302
    listed = workerhost.client.get("/links", params={"prefix": "brief"}).json()["links"]
    assert listed[0]["expiration"] == int(workerhost.clock.now()) + 60
    workerhost.advance(60)
    assert workerhost.client.get("/s/brief").status_code == 404


def test_the_creation_time_is_the_tests_clock(workerhost: Workerhost) -> None:
    # One clock: datetime.now() in the handler is the time KV expiry is judged by, and advance() moves both.
    workerhost.advance(3600)
    created = workerhost.client.post("/links", json={"url": "https://example.com", "code": "t"}).json()["created"]
    assert created == datetime.fromtimestamp(workerhost.clock.now(), UTC).isoformat(timespec="seconds")


def test_a_checked_link_is_fetched_first(workerhost: Workerhost, workerhost_fetch: respx.Router) -> None:
    # The test answers the handler's outbound fetch; nothing goes to the network.
    workerhost_fetch.head("https://example.com/up").respond(200)
    workerhost_fetch.head("https://example.com/gone").respond(404)
    up = workerhost.client.post("/links", json={"url": "https://example.com/up", "code": "up", "check": True})
    assert up.status_code == 201
    gone = workerhost.client.post("/links", json={"url": "https://example.com/gone", "check": True})
    assert (gone.status_code, gone.json()) == (400, {"error": "https://example.com/gone answered 404; not shortened"})
    assert workerhost_fetch.calls.call_count == 2


def test_metadata_is_stored_with_the_link(workerhost: Workerhost) -> None:
    workerhost.client.post("/links", json={"url": "https://example.com", "code": "m"}, headers={"x-owner": "cy"})
    found = workerhost.kv("LINKS").get_with_metadata("link:m")
    assert found.value == "https://example.com" and found.metadata["owner"] == "cy"
