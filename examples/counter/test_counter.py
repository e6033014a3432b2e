"""Tests for the counter example, written with workerhost's pytest plugin.

Every test gets the workers of kv.yaml running in-process, on fresh, empty KV storage of its own.
"""

from __future__ import annotations

import httpx
import pytest

from runtime.testing import AsyncWorkerhost, Workerhost


def test_each_visit_adds_one(workerhost_client: httpx.Client) -> None:
    assert workerhost_client.get("/counter/visits").json()["hits"] == 1
    assert workerhost_client.get("/counter/visits").json()["hits"] == 2


def test_every_test_starts_from_an_empty_store(workerhost_client: httpx.Client) -> None:
    # The same counter as above, and no visits: nothing leaks from one test to the next.
    assert workerhost_client.get("/counter/visits").json()["hits"] == 1


def test_peek_reads_without_counting_and_delete_resets(workerhost_client: httpx.Client) -> None:
    workerhost_client.get("/counter/peeked")
    assert workerhost_client.get("/counter/peeked", params={"peek": "1"}).json()["hits"] == 1
    assert workerhost_client.delete("/counter/peeked").json() == {"name": "peeked", "hits": 0}
    assert workerhost_client.get("/counter/peeked", params={"peek": "1"}).json()["hits"] == 0


def test_the_count_lives_in_the_counter_binding(workerhost: Workerhost) -> None:
    counter = workerhost.kv("COUNTER")  # env.COUNTER, with blocking methods for a sync test
    counter.put("count:seeded", "41")
    assert workerhost.client.get("/counter/seeded").json()["hits"] == 42
    assert counter.get("count:seeded") == "42"


def test_the_last_visit_is_recorded_after_the_response(workerhost: Workerhost) -> None:
    assert workerhost.client.get("/counter/timed").json()["last_visit"] is None
    workerhost.wait_until()  # the ctx.wait_until write has finished
    assert workerhost.kv("COUNTER").get("last:timed") is not None
    assert workerhost.client.get("/counter/timed").json()["last_visit"] is not None


def test_the_handlers_clock_is_the_tests(workerhost: Workerhost) -> None:
    # time.time() in the handler stands still with the test's clock, and advance() moves it.
    workerhost.client.get("/counter/clock")
    workerhost.wait_until()
    assert workerhost.client.get("/counter/clock").json()["last_visit"] == workerhost.clock.now()
    workerhost.advance(90)
    workerhost.client.get("/counter/clock")
    workerhost.wait_until()
    assert workerhost.kv("COUNTER").get("last:clock") == str(workerhost.clock.now())


def test_vars_come_from_kv_yaml(workerhost: Workerhost) -> None:
    assert workerhost.env("counter").GREETING == "hello"
    assert workerhost.client.get("/counter").json()["greeting"] == "hello"


@pytest.mark.workerhost(vars={"GREETING": "hej"})
def test_a_marker_sets_vars_for_one_test(workerhost_client: httpx.Client) -> None:
    assert workerhost_client.get("/counter").json()["greeting"] == "hej"


def test_reset_empties_the_store_mid_test(workerhost: Workerhost) -> None:
    workerhost.client.get("/counter/again")
    workerhost.reset()
    assert workerhost.client.get("/counter/again").json()["hits"] == 1


@pytest.mark.anyio
async def test_async_tests_await_the_same_helpers(workerhost_async: AsyncWorkerhost) -> None:
    response = await workerhost_async.client.get("/counter/async")
    assert response.json()["hits"] == 1
    await workerhost_async.wait_until()
    assert await workerhost_async.kv("COUNTER").get("last:async") is not None
