"""``limits: strict``: 1,000 KV operations per Worker invocation, a bulk request counting as one.

https://developers.cloudflare.com/kv/platform/limits/ ("Operations/Worker invocation").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bindings import KVError, KVLimitError
from bindings.fidelity import MAX_OPERATIONS, TOO_MANY_OPERATIONS, invocation

from .conftest import Served

pytestmark = pytest.mark.anyio


@pytest.fixture
def strict(served: Callable[..., Served]) -> Served:
    return served(limits="strict")


async def test_the_operation_after_the_thousandth_fails_with_productions_text(strict: Served) -> None:
    assert MAX_OPERATIONS == 1000
    with invocation() as budget:
        for _ in range(MAX_OPERATIONS):
            await strict.kv.get("missing")
        with pytest.raises(KVLimitError) as caught:
            await strict.kv.get("missing")
    assert str(caught.value) == TOO_MANY_OPERATIONS == "Too many API requests by single worker invocation."
    assert isinstance(caught.value, KVError)
    assert budget.spent == MAX_OPERATIONS + 1


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda kv: kv.get("k"), id="get"),
        pytest.param(lambda kv: kv.get_with_metadata("k"), id="get_with_metadata"),
        pytest.param(lambda kv: kv.get("k", type="stream"), id="get-stream"),
        pytest.param(lambda kv: kv.get(["a", "b", "c"]), id="bulk-get"),
        pytest.param(lambda kv: kv.get_with_metadata(["a", "b"]), id="bulk-get_with_metadata"),
        pytest.param(lambda kv: kv.put("k", "v"), id="put"),
        pytest.param(lambda kv: kv.delete("k"), id="delete"),
        pytest.param(lambda kv: kv.list(), id="list"),
    ],
)
async def test_every_call_counts_as_one_operation(strict: Served, call: Callable[..., Any]) -> None:
    with invocation(limit=3) as budget:
        await call(strict.kv)
        assert budget.spent == 1


async def test_the_refused_operation_is_not_made(strict: Served) -> None:
    with invocation(limit=1):
        await strict.kv.put("first", "1")
        with pytest.raises(KVLimitError):
            await strict.kv.put("second", "2")
        with pytest.raises(KVLimitError, match=f"^{TOO_MANY_OPERATIONS}$"):
            await strict.kv.delete("first")
    assert await strict.kv.get(["first", "second"]) == {"first": "1", "second": None}


async def test_a_request_the_service_refuses_still_counts_but_one_the_binding_refuses_does_not(
    strict: Served,
) -> None:
    # workerd checks key names itself and sends nothing; the KV service checks the rest after the request.
    with invocation() as budget:
        with pytest.raises(TypeError, match="Key name cannot be empty"):
            await strict.kv.get("")
        assert budget.spent == 0
        with pytest.raises(KVError, match="Invalid cache_ttl of 10"):
            await strict.kv.get("k", cache_ttl=10)
        assert budget.spent == 1


async def test_tasks_an_invocation_starts_spend_its_budget(strict: Served) -> None:
    with invocation(limit=2) as budget:
        task = asyncio.ensure_future(strict.kv.get("k"))  # like ctx.wait_until work
    await task
    await strict.kv.get("k")  # outside any invocation: not counted
    assert budget.spent == 1


async def test_each_invocation_has_its_own_budget(strict: Served) -> None:
    for _ in range(3):
        with invocation(limit=2):
            await strict.kv.get("a")
            await strict.kv.get("b")


async def test_calls_outside_an_invocation_and_the_rest_api_count_against_nothing(strict: Served) -> None:
    for _ in range(MAX_OPERATIONS + 5):
        await strict.kv.get("k")
    with invocation(limit=1) as budget:
        await strict.rest.put_many([])
        await strict.rest.delete_many(["a", "b"])
    assert budget.spent == 0


async def test_a_namespace_without_strict_limits_is_not_counted(served: Callable[..., Served]) -> None:
    relaxed = served(rate_limit=True)
    with invocation(limit=1) as budget:
        await relaxed.kv.get("a")
        await relaxed.kv.get("b")
    assert budget.spent == 0
