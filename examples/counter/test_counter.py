from __future__ import annotations

import time

import httpx


def test_each_visit_adds_one(examples: httpx.Client) -> None:
    first = examples.get("/counter/visits").json()
    second = examples.get("/counter/visits").json()
    assert (first["hits"], second["hits"]) == (1, 2)
    assert second["greeting"] == "hello"


def test_peek_reads_without_counting_and_delete_resets(examples: httpx.Client) -> None:
    examples.get("/counter/peeked")
    assert examples.get("/counter/peeked", params={"peek": "1"}).json()["hits"] == 1
    assert examples.delete("/counter/peeked").json() == {"name": "peeked", "hits": 0}
    assert examples.get("/counter/peeked", params={"peek": "1"}).json()["hits"] == 0


def test_the_last_visit_is_recorded_after_the_response(examples: httpx.Client) -> None:
    examples.get("/counter/timed")
    deadline = time.monotonic() + 10
    while examples.get("/counter/timed", params={"peek": "1"}).json()["last_visit"] is None:
        assert time.monotonic() < deadline, "the wait_until write never landed"
        time.sleep(0.02)


def test_bare_path_counts_hits(examples: httpx.Client) -> None:
    assert examples.get("/counter").json()["name"] == "hits"
