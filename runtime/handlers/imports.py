"""Module names scripts import that the host provides: Cloudflare's, and Pyodide's refused with a hint.

``workers`` (and ``workers.asgi`` ...) and the top-level ``asgi`` are this package's ``workers`` module.
``js``, ``pyodide`` (and ``pyodide.ffi`` ...) exist only inside Cloudflare's Python runtime, which is
Pyodide in a JavaScript isolate: importing them fails with a message saying so and what to use here,
instead of a bare "No module named 'js'". Both are installed once, before the first script loads, and
stay: a script may import ``asgi`` or ``js`` inside its handler, long after it was loaded.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

from . import workers

__all__ = ["PYODIDE_ONLY", "install_import_names"]

PYODIDE_ONLY = ("js", "pyodide", "pyodide_js", "_pyodide_entrypoint_helper", "_cloudflare_compat_flags")
_HINTS = {
    "js": "call Python instead: from workers import fetch, Response, Request, Headers, FormData, Blob",
    "pyodide": "no conversion is needed here: bindings take and return Python values, so drop "
    "to_js/create_proxy/JsProxy, and use `from workers import fetch` instead of pyodide.http.pyfetch",
}


class PyodideOnlyFinder(importlib.abc.MetaPathFinder):
    """Refuses the Pyodide-only modules with a message that says why and what to use instead."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top not in PYODIDE_ONLY:
            return None
        hint = _HINTS.get(top, _HINTS["pyodide"])
        raise ModuleNotFoundError(
            f"No module named '{fullname}': it is Pyodide-only, part of Cloudflare's Python Workers runtime "
            f"(Pyodide in a JavaScript isolate), and workerhost runs your worker on CPython; {hint}",
            name=fullname,
        )


def install_import_names() -> None:
    """Register ``workers`` and ``asgi``, and the Pyodide-only refusal (once per process)."""
    if sys.modules.get("workers") is not workers:
        workers.install_module_names()
    if not any(isinstance(finder, PyodideOnlyFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, PyodideOnlyFinder())
