"""Each example served by the real ``workerhost dev`` (a subprocess on a port), as a user runs it.

The examples' own tests use the pytest plugin (in-process, fresh storage per test); these check
that the same behaviour holds over a real socket, with real timing for wait_until and crons.
"""

from __future__ import annotations

import httpx

from tests.support import eventually


def test_counter_counts_and_records_the_last_visit_after_the_response(examples: httpx.Client) -> None:
    assert [examples.get("/counter/served").json()["hits"] for _ in range(2)] == [1, 2]
    eventually(lambda: examples.get("/counter/served", params={"peek": "1"}).json()["last_visit"], what="last visit")


def test_shortener_creates_and_redirects(examples: httpx.Client) -> None:
    created = examples.post("/links", json={"url": "https://example.com/served", "code": "served"})
    assert created.status_code == 201
    followed = examples.get("/s/served")
    assert (followed.status_code, followed.headers["location"]) == (302, "https://example.com/served")


def test_pyworker_notes_and_its_cron_through_wranglers_route(examples: httpx.Client) -> None:
    note_id = examples.post("/py/notes", json={"title": "served", "text": "x"}).json()["id"]
    assert examples.get(f"/py/notes/{note_id}").json()["text"] == "x"
    assert examples.get("/__scheduled", params={"worker": "pyworker"}).text == "Ran scheduled event"
    assert examples.get("/py/stats").json()["notes"] >= 1
