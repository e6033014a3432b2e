"""Package attributes imported on first use (PEP 562), so importing a package stays cheap.

``workerhost`` subcommands that never serve should not pay for Starlette and uvicorn, and the REST
API is built only when its first request arrives; both packages export names this way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], homes: Mapping[str, str], exported: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each name in ``homes`` loads from its module.

    Args:
        package: the package's ``__name__``.
        namespace: the package's ``globals()``, where a loaded name is kept so it loads once.
        homes: name -> relative module that defines it, e.g. ``{"serve": ".server"}``.
        exported: the package's ``__all__``.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exported))

    return __getattr__, __dir__
