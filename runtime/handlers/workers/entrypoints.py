"""The base classes Cloudflare scripts subclass: ``WorkerEntrypoint``, and ``DurableObject`` and
``WorkflowEntrypoint`` so that scripts defining them import; plus the ``@handler`` decorator.

Durable Objects and Workflows are not emulated (README "Bring a Cloudflare project"): their classes
can be defined, and a binding to them raises an error naming it when it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DurableObject", "WorkerEntrypoint", "WorkflowEntrypoint", "handler"]

F = TypeVar("F", bound=Callable[..., Any])


class WorkerEntrypoint:
    """Base class of ``class Default(WorkerEntrypoint)`` handlers: ``self.env`` and ``self.ctx`` are set per call."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class DurableObject:
    """Base class of a Durable Object; defining one works, running one needs Cloudflare (or ``wrangler dev``)."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class WorkflowEntrypoint:
    """Base class of a Workflow; defining one works, running one needs Cloudflare (or ``wrangler dev``)."""

    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


def handler(function: F) -> F:
    """The ``@handler`` decorator of older Python Workers scripts; it changes nothing."""
    return function
