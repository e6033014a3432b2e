"""``env``: a worker's KV bindings, vars and secrets, with attribute and item access.

One ``Env`` is built per worker per loaded version and shared by all its requests, so the request
path allocates nothing for it. It is read-only, and its repr never shows a secret's value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

__all__ = ["Env"]


class Env:
    """``env.MY_KV`` and ``env["MY_KV"]``; ``"MY_KV" in env``; ``getattr(env, "X", None)``."""

    # Values live in the instance __dict__ so attribute access is a plain lookup, with no __getattr__ hook.
    def __init__(self, values: Mapping[str, Any], secret_names: frozenset[str] = frozenset()) -> None:
        object.__setattr__(self, "_Env__secret_names", secret_names)
        self.__dict__.update(values)

    def __getitem__(self, name: str) -> Any:
        if name.startswith("_Env__"):
            raise KeyError(name)
        return self.__dict__[name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not name.startswith("_Env__") and name in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return (name for name in self.__dict__ if not name.startswith("_Env__"))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("env is read-only; bindings, vars and secrets come from kv.yaml and .dev.vars")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("env is read-only; bindings, vars and secrets come from kv.yaml and .dev.vars")

    def __repr__(self) -> str:
        secret_names = self.__dict__["_Env__secret_names"]
        parts = [f"{name}=[secret]" if name in secret_names else f"{name}={self.__dict__[name]!r}" for name in self]
        return f"Env({', '.join(parts)})"
