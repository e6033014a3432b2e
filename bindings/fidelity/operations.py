"""``limits: strict``: production's 1,000 KV operations per Worker invocation.

"Within a single invocation, a Worker can make up to 1,000 operations to external services ... A
bulk request to Workers KV counts for 1 request to an external service."
(https://developers.cloudflare.com/kv/platform/limits/). Beyond it production throws
``Too many API requests by single worker invocation.``

An invocation is whatever the host runs for one request or one scheduled event, ``wait_until``
work included: the host opens a budget with ``invocation()`` around it, and the context variable
carries it into every task the invocation starts. KV calls made outside any invocation (the REST
API, a test calling a binding directly) count against nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from ..errors import KVLimitError

__all__ = [
    "MAX_OPERATIONS",
    "TOO_MANY_OPERATIONS",
    "OperationBudget",
    "end_invocation",
    "invocation",
    "spend_operation",
    "start_invocation",
]

MAX_OPERATIONS = 1000
TOO_MANY_OPERATIONS = "Too many API requests by single worker invocation."


class OperationBudget:
    """The KV operations one invocation has made."""

    __slots__ = ("spent", "limit")

    def __init__(self, limit: int = MAX_OPERATIONS) -> None:
        self.spent = 0
        self.limit = limit

    def spend(self) -> None:
        """Count one operation; raise ``KVLimitError`` once the limit is passed (the operation is not made)."""
        self.spent += 1
        if self.spent > self.limit:
            raise KVLimitError(429, TOO_MANY_OPERATIONS)


_current: ContextVar[OperationBudget | None] = ContextVar("workerhost_kv_operations", default=None)


def spend_operation() -> None:
    """Count one KV operation against the running invocation's budget, if there is one."""
    budget = _current.get()
    if budget is not None:
        budget.spend()


def start_invocation(budget: OperationBudget) -> Token[OperationBudget | None]:
    """Make ``budget`` the running invocation's: KV calls in this context, and in tasks it starts, spend it.

    Pair it with ``end_invocation`` in the same context (the ``invocation`` context manager does).
    """
    return _current.set(budget)


def end_invocation(token: Token[OperationBudget | None]) -> None:
    """Close the budget ``start_invocation`` opened; tasks already started keep spending it."""
    _current.reset(token)


@contextmanager
def invocation(limit: int = MAX_OPERATIONS) -> Iterator[OperationBudget]:
    """One invocation's budget, open for the ``with`` block."""
    budget = OperationBudget(limit)
    token = start_invocation(budget)
    try:
        yield budget
    finally:
        end_invocation(token)
