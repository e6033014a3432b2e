"""Loading handler scripts: import by file path, fresh each time, and find the entrypoints.

Each load executes the script as a new module object under a name unique to the version, so old
and new code can run side by side while in-flight requests finish. Modules beside the script
(``import helpers``) are found by a finder that looks in the script's folder first; before each load
the copies imported by earlier loads are dropped from ``sys.modules``, so an edit to a helper takes
effect too. Sources are always compiled from the file, never from ``__pycache__``: two saves in the
same second with the same size would otherwise run stale bytecode.

Loads run on a thread of their own while the event loop serves requests (``importer``), and those
requests may import modules too. So the finder is installed once and never removed (a list that
changes while another thread walks it can skip an entry, such as the finder of ``sys.path``), and it
answers only on the thread that is loading, for that load's folder.

The three handler shapes, tried in this order:

1. ``class Default(WorkerEntrypoint)`` with ``async def fetch(self, request)`` (Cloudflare Python Workers;
   ``async def fetch(self)`` too, as Cloudflare accepts it);
2. module-level ``async def fetch(request, env, ctx)``;
3. legacy ``async def on_fetch(request, env)`` (``ctx`` is passed too if it takes a third argument).

Scheduled handlers follow the same shapes: ``Default.scheduled(self, controller, env, ctx)``,
``scheduled(controller, env, ctx)``, ``on_scheduled(controller, env, ctx)``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import HANDLER_FAILURES, HandlerLoadError
from .imports import install_import_names
from .jsonencode import speed_up_json_response
from .tracebacks import format_user_traceback
from .workers import Request as WorkersRequest, WorkerEntrypoint

__all__ = ["Handlers", "load_handlers", "unload_module"]

FetchHandler = Callable[[Any, Any, Any], Awaitable[Any]]
ScheduledHandler = Callable[[Any, Any, Any], Awaitable[Any]]
_MODULE_PREFIX = "_workerhost_script_"

# Handlers that return Starlette's JSONResponse get the same bytes, rendered by an encoder built once.
speed_up_json_response()
_SHAPES_HINT = (
    'expected one of: class Default(WorkerEntrypoint) with "async def fetch(self, request)", '
    'a module-level "async def fetch(request, env, ctx)", or "async def on_fetch(request, env)"'
)


@dataclass(frozen=True, slots=True)
class Handlers:
    """A loaded script's entrypoints, each normalised to ``(request|controller, env, ctx)``."""

    module: ModuleType
    fetch: FetchHandler
    scheduled: ScheduledHandler | None
    shape: str  # "WorkerEntrypoint", "fetch" or "on_fetch"


def load_handlers(script: Path, display: str, module_name: str) -> Handlers:
    """Import ``script`` afresh as ``module_name`` and find its fetch (and scheduled) entrypoints.

    Raises:
        HandlerLoadError: the script fails to import, or has no usable async fetch entrypoint.
    """
    module = import_script(script, display, _MODULE_PREFIX + module_name)
    try:
        return _find_handlers(module, display)
    except HandlerLoadError:
        unload_module(module)
        raise


def unload_module(module: ModuleType) -> None:
    """Forget a script module once its version has retired."""
    if sys.modules.get(module.__name__) is module:
        del sys.modules[module.__name__]


# --- importing -------------------------------------------------------------------------------------


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """Compiles from source every time: no stale ``.pyc`` read, none written."""

    def path_stats(self, path: str) -> dict[str, Any]:
        raise OSError("bytecode caching is off for handler modules")


class _SiblingFinder(importlib.abc.MetaPathFinder):
    """Finds modules and packages in the folder of the script being loaded, ahead of ``sys.path``.

    One finder serves the process; it answers only on a thread inside ``loading(folder)``.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def loading(self, folder: Path) -> Iterator[None]:
        """Find modules in ``folder`` for imports made on this thread, until the block ends."""
        self._local.folder = folder
        try:
            yield
        finally:
            self._local.folder = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        folder: Path | None = getattr(self._local, "folder", None)
        if folder is None:
            return None
        if path is None:
            base = folder
        else:  # a submodule: ours only if its package came from our folder
            inside = [Path(entry) for entry in path if Path(entry).is_relative_to(folder)]
            if not inside:
                return None
            base = inside[0]
        name = fullname.rpartition(".")[2]
        package = base / name / "__init__.py"
        if package.is_file():
            return _spec(fullname, package, [str(package.parent)])
        module = base / f"{name}.py"
        return _spec(fullname, module, None) if module.is_file() else None


_FINDER = _SiblingFinder()


def _spec(fullname: str, path: Path, search: list[str] | None) -> importlib.machinery.ModuleSpec | None:
    loader = _SourceOnlyLoader(fullname, str(path))
    return importlib.util.spec_from_file_location(fullname, path, loader=loader, submodule_search_locations=search)


def _sibling_origin(module: object) -> Path | None:
    """Where a module we imported from a script's folder lives; None for any other module."""
    spec = getattr(module, "__spec__", None)
    if spec is None or not isinstance(spec.loader, _SourceOnlyLoader) or spec.name.startswith(_MODULE_PREFIX):
        return None
    return Path(spec.origin or "")


def _names_in(folder: Path) -> set[str]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return set()
    return {entry.stem for entry in entries if entry.suffix == ".py"} | {
        entry.name for entry in entries if (entry / "__init__.py").is_file()
    }


@contextmanager
def _sibling_imports(folder: Path) -> Iterator[None]:
    # Drop what earlier loads imported from this folder (stale code), and any module from another
    # script's folder that would shadow one of ours by name (two workers, two helpers.py).
    names = _names_in(folder)
    for name, module in list(sys.modules.items()):
        origin = _sibling_origin(module)
        if origin is not None and (origin.is_relative_to(folder) or name.partition(".")[0] in names):
            del sys.modules[name]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)  # once: inserting at the front never makes another thread skip one
    install_import_names()  # Cloudflare's `workers` and `asgi` are ours; Pyodide's `js` is refused with a hint
    with _FINDER.loading(folder):
        yield


def import_script(script: Path, display: str, module_name: str) -> ModuleType:
    """Execute ``script`` as a new module called ``module_name``; raises HandlerLoadError."""
    spec = _spec(module_name, script, None)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"{display}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and typing look modules up while they execute
    try:
        with _sibling_imports(script.parent):
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[module_name]
        raise HandlerLoadError(f"{display} has a syntax error:\n{format_user_traceback(exc).rstrip()}") from None
    except HANDLER_FAILURES as exc:  # sys.exit() at import time must not stop the host
        del sys.modules[module_name]
        raise HandlerLoadError(f"{display} failed to import:\n{format_user_traceback(exc).rstrip()}") from None
    except BaseException:  # the load was abandoned past its time limit (``importer``)
        sys.modules.pop(module_name, None)
        raise
    return module


# --- finding entrypoints ---------------------------------------------------------------------------


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(inspect.unwrap(function))


def _positional_count(function: Any) -> int:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 3
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 3
    return sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _require_async(function: Any, display: str, signature: str) -> None:
    name = signature.partition("(")[0].rpartition(" ")[2]
    if not callable(function):
        raise HandlerLoadError(f'{display}: {name} is not a function; expected "{signature}"')
    if not _is_async(function):
        raise HandlerLoadError(
            f'{display}: {name} must be "{signature}", but it is a plain (sync) function; handlers are async'
        )


def _find_handlers(module: ModuleType, display: str) -> Handlers:
    default = getattr(module, "Default", None)
    if isinstance(default, type) and issubclass(default, WorkerEntrypoint):
        return _entrypoint_handlers(module, default, display)
    if hasattr(module, "fetch"):
        _require_async(module.fetch, display, "async def fetch(request, env, ctx)")
        return Handlers(module, _adapt(module.fetch), _module_scheduled(module, display, "scheduled"), "fetch")
    if hasattr(module, "on_fetch"):
        _require_async(module.on_fetch, display, "async def on_fetch(request, env)")
        return Handlers(module, _adapt(module.on_fetch), _module_scheduled(module, display, "on_scheduled"), "on_fetch")
    raise HandlerLoadError(f'{display} defines no async "fetch(request, env, ctx)"; {_SHAPES_HINT}')


def _adapt(function: Any) -> FetchHandler:
    # Called as (request, env, ctx); a handler that takes fewer arguments gets the first ones.
    count = _positional_count(function)
    if count >= 3:
        adapted: FetchHandler = function  # checked to be an async function taking three arguments
        return adapted
    if count == 2:
        return lambda first, env, ctx: function(first, env)
    return lambda first, env, ctx: function(first)


def _module_scheduled(module: ModuleType, display: str, name: str) -> ScheduledHandler | None:
    function = getattr(module, name, None)
    if function is None:
        return None
    _require_async(function, display, f"async def {name}(controller, env, ctx)")
    return _adapt(function)


def _entrypoint_handlers(module: ModuleType, cls: type[WorkerEntrypoint], display: str) -> Handlers:
    method = getattr(cls, "fetch", None)
    if method is None:
        raise HandlerLoadError(f'{display}: class Default(WorkerEntrypoint) has no "async def fetch(self, request)"')
    _require_async(method, display, "async def fetch(self, request)")

    takes = _positional_count(method) - 1  # without self
    if takes == 0:  # `async def fetch(self)`, as in Cloudflare's cron example

        def fetch(request: Any, env: Any, ctx: Any) -> Awaitable[Any]:
            return cls(ctx, env).fetch()  # type: ignore[attr-defined,no-any-return]

    elif cls.__init__ is WorkerEntrypoint.__init__:
        # The usual class, whose __init__ is ours: the instance is made as that __init__ makes it, and
        # its fetch's coroutine is handed back for the host to await (no coroutine of our own around it).
        def fetch(request: Any, env: Any, ctx: Any) -> Awaitable[Any]:
            entrypoint = cls.__new__(cls)
            entrypoint.ctx, entrypoint.env = ctx, env
            return entrypoint.fetch(WorkersRequest.of(request))  # type: ignore[attr-defined,no-any-return]

    else:

        def fetch(request: Any, env: Any, ctx: Any) -> Awaitable[Any]:
            return cls(ctx, env).fetch(WorkersRequest.of(request))  # type: ignore[attr-defined,no-any-return]

    scheduled = None
    if getattr(cls, "scheduled", None) is not None:
        _require_async(cls.scheduled, display, "async def scheduled(self, controller, env, ctx)")  # type: ignore[attr-defined]
        bound = _adapt_method(cls.scheduled)  # type: ignore[attr-defined]

        async def scheduled(controller: Any, env: Any, ctx: Any) -> Any:
            return await bound(cls(ctx, env), controller, env, ctx)

    return Handlers(module, fetch, scheduled, "WorkerEntrypoint")


def _adapt_method(method: Any) -> Callable[..., Awaitable[Any]]:
    count = _positional_count(method) - 1  # without self
    if count >= 3:
        return method  # type: ignore[no-any-return]
    if count == 2:
        return lambda self, controller, env, ctx: method(self, controller, env)
    return lambda self, controller, env, ctx: method(self, controller)
