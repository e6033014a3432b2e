"""Tests for the Cloudflare-style Python Worker example, on workerhost's pytest plugin."""

from __future__ import annotations

import json

import httpx
import pytest

from runtime.testing import Workerhost


def test_notes_are_created_listed_and_read(workerhost_client: httpx.Client) -> None:
    created = workerhost_client.post("/py/notes", json={"title": "groceries", "text": "eggs"})
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert workerhost_client.get("/py/notes").json()["notes"] == [{"id": note_id, "title": "groceries"}]
    note = workerhost_client.get(f"/py/notes/{note_id}").json()
    assert (note["title"], note["text"], note["views"]) == ("groceries", "eggs", 1)


def test_views_are_counted_after_the_response(workerhost: Workerhost) -> None:
    note_id = workerhost.client.post("/py/notes", json={"title": "t", "text": "x"}).json()["id"]
    assert workerhost.client.get(f"/py/notes/{note_id}").json()["views"] == 1
    workerhost.wait_until()  # the waitUntil that stores the count
    assert workerhost.client.get(f"/py/notes/{note_id}").json()["views"] == 2
    workerhost.wait_until()
    assert workerhost.kv("NOTES").get(f"views:{note_id}") == "2"


def test_listing_pages_with_a_cursor(workerhost_client: httpx.Client) -> None:
    for index in range(12):
        workerhost_client.post("/py/notes", json={"title": f"n{index}", "text": "."})
    first = workerhost_client.get("/py/notes").json()
    assert len(first["notes"]) == 10 and first["cursor"]
    second = workerhost_client.get("/py/notes", params={"cursor": first["cursor"]}).json()
    assert len(second["notes"]) == 2 and second["cursor"] is None
    assert not {n["id"] for n in second["notes"]} & {n["id"] for n in first["notes"]}


def test_notes_with_a_ttl_expire(workerhost: Workerhost) -> None:
    note_id = workerhost.client.post("/py/notes", json={"title": "t", "text": "x", "ttl": 120}).json()["id"]
    workerhost.advance(119)
    assert workerhost.client.get(f"/py/notes/{note_id}").status_code == 200
    workerhost.advance(1)
    assert workerhost.client.get(f"/py/notes/{note_id}").status_code == 404


def test_the_cron_trigger_updates_stats(workerhost: Workerhost) -> None:
    workerhost.client.post("/py/notes", json={"title": "s", "text": "."})
    assert workerhost.client.get("/py/stats").json() == {"notes": 0, "last_cron": None}
    workerhost.scheduled("pyworker")  # the worker's cron, "*/30 * * * *", at the clock's time
    stats = workerhost.client.get("/py/stats").json()
    assert stats == {"notes": 1, "last_cron": workerhost.clock.now() * 1000, "cron": "*/30 * * * *"}


def test_bad_notes_and_unknown_paths(workerhost_client: httpx.Client) -> None:
    assert workerhost_client.post("/py/notes", json={"title": 1, "text": "x"}).status_code == 400
    assert workerhost_client.get("/py/nothing").status_code == 404


def test_a_handler_exception_is_raised_in_the_test(workerhost_client: httpx.Client) -> None:
    # The handler's own exception, with its traceback, rather than a 500 page to decode.
    with pytest.raises(json.JSONDecodeError):
        workerhost_client.post("/py/notes", content=b"not json")


@pytest.mark.workerhost(raise_handler_exceptions=False)
def test_the_500_is_still_there_for_a_test_that_checks_it(workerhost_client: httpx.Client) -> None:
    response = workerhost_client.post("/py/notes", content=b"not json")
    assert response.status_code == 500 and "JSONDecodeError" in response.text
