"""Bindings the config declares but workerhost does not emulate: D1, R2, Durable Objects, Queues, AI, ...

Each one is in ``env`` under its name, so the worker loads and everything else in it runs; touching it
(any attribute, a call) raises ``BindingNotAvailableError`` naming the binding and its kind.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["BindingNotAvailableError", "UnavailableBinding"]


class BindingNotAvailableError(RuntimeError):
    """A worker used a binding that workerhost does not emulate."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        super().__init__(
            f"env.{name} is a {kind} binding, which is not available locally: workerhost emulates KV namespaces, "
            "static assets, vars and secrets. Run this worker with `npx wrangler dev` to use it, or leave "
            f"env.{name} out of the code paths you try here"
        )


class UnavailableBinding:
    """``env.<name>`` for a binding that is not emulated: any use raises ``BindingNotAvailableError``."""

    __slots__ = ("_name", "_kind")

    def __init__(self, name: str, kind: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_kind", kind)

    def __getattr__(self, attribute: str) -> NoReturn:
        raise BindingNotAvailableError(self._name, self._kind)

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise BindingNotAvailableError(self._name, self._kind)

    def __getitem__(self, key: Any) -> NoReturn:
        raise BindingNotAvailableError(self._name, self._kind)

    def __repr__(self) -> str:
        return f"<{self._kind} binding {self._name}: not available locally>"
