"""workerhost's host: run Worker-style Python handler scripts with KV bindings, hot-reloaded.

Handler scripts import ``Response`` from here (or ``from workers import Response``). Names load
lazily, so ``workerhost`` subcommands that never serve do not pay for Starlette and uvicorn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import RuntimeConfig, load_config
    from .errors import ConfigError, HandlerLoadError, WorkerhostError
    from .host import create_app
    from .server import serve
    from .workers import Response

__all__ = [
    "ConfigError",
    "HandlerLoadError",
    "Response",
    "RuntimeConfig",
    "WorkerhostError",
    "create_app",
    "load_config",
    "serve",
]

_HOMES = {
    "ConfigError": ".errors",
    "HandlerLoadError": ".errors",
    "Response": ".workers",
    "RuntimeConfig": ".config",
    "WorkerhostError": ".errors",
    "create_app": ".host",
    "load_config": ".config",
    "serve": ".server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
