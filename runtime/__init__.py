"""workerhost's host: run Worker-style Python handler scripts with KV bindings, hot-reloaded.

Handler scripts import ``Response`` from here (or ``from workers import Response``). Names load
lazily, so ``workerhost`` subcommands that never serve do not pay for Starlette and uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports

if TYPE_CHECKING:
    from .config import RuntimeConfig, load_config
    from .errors import ConfigError, HandlerLoadError, WorkerhostError
    from .handlers.workers import Response
    from .host.app import create_app
    from .server.serve import serve

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
    "Response": ".handlers.workers",
    "RuntimeConfig": ".config",
    "WorkerhostError": ".errors",
    "create_app": ".host.app",
    "load_config": ".config",
    "serve": ".server.serve",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES, __all__)
