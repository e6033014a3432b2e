from __future__ import annotations

import time

import httpx


def test_notes_are_created_listed_and_read(examples: httpx.Client) -> None:
    created = examples.post("/py/notes", json={"title": "groceries", "text": "eggs"})
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert {"id": note_id, "title": "groceries"} in examples.get("/py/notes").json()["notes"]
    note = examples.get(f"/py/notes/{note_id}").json()
    assert (note["title"], note["text"], note["views"]) == ("groceries", "eggs", 1)


def test_views_are_counted_after_the_response(examples: httpx.Client) -> None:
    note_id = examples.post("/py/notes", json={"title": "t", "text": "x"}).json()["id"]
    examples.get(f"/py/notes/{note_id}")
    deadline = time.monotonic() + 10
    while examples.get(f"/py/notes/{note_id}").json()["views"] < 3:  # 2nd read may race the 1st count
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_listing_pages_with_a_cursor(examples: httpx.Client) -> None:
    for index in range(12):
        examples.post("/py/notes", json={"title": f"n{index}", "text": "."})
    first = examples.get("/py/notes").json()
    assert len(first["notes"]) == 10 and first["cursor"]
    second = examples.get("/py/notes", params={"cursor": first["cursor"]}).json()
    assert second["notes"] and not {n["id"] for n in second["notes"]} & {n["id"] for n in first["notes"]}


def test_the_cron_trigger_updates_stats(examples: httpx.Client) -> None:
    examples.post("/py/notes", json={"title": "s", "text": "."})
    assert examples.get("/__scheduled", params={"worker": "pyworker"}).text == "Ran scheduled event"
    stats = examples.get("/py/stats").json()
    assert stats["notes"] >= 1 and stats["cron"] == "*/30 * * * *" and stats["last_cron"] > 0


def test_bad_notes_and_unknown_paths(examples: httpx.Client) -> None:
    assert examples.post("/py/notes", json={"title": 1, "text": "x"}).status_code == 400
    assert examples.get("/py/nothing").status_code == 404
