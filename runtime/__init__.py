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


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES, __all__)
