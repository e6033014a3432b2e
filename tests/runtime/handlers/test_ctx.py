from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime.handlers.ctx import ExecutionContext, ScheduledController


def test_wait_until_holds_work_until_release_then_passes_it_on() -> None:
    ctx = ExecutionContext()
    started: list[Any] = []
    first, second = asyncio.sleep(0), asyncio.sleep(0)
    ctx.waitUntil(first)
    assert started == []
    ctx.release(started.append)
    ctx.wait_until(second)
    assert started == [first, second]
    first.close()
    second.close()


def test_wait_until_refuses_non_awaitables() -> None:
    with pytest.raises(TypeError, match="wait_until\\(\\) needs an awaitable"):
        ExecutionContext().wait_until(42)  # type: ignore[arg-type]


def test_pass_through_on_exception_is_recorded() -> None:
    ctx = ExecutionContext()
    ctx.passThroughOnException()
    assert ctx.pass_through and ctx.props == {}


def test_controller_has_both_spellings() -> None:
    controller = ScheduledController("* * * * *", 1000.0)
    assert controller.scheduledTime == controller.scheduled_time == 1000.0
    controller.noRetry()
    assert controller.retry_disabled and controller.type == "scheduled"
