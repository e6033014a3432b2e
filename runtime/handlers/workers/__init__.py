"""The ``workers`` module that handler scripts import, on par with Cloudflare's ``workers-runtime-sdk``.

``from workers import Response, WorkerEntrypoint`` (and everything else below) works in every script
the host loads, so a script written for Cloudflare runs here unchanged; so do ``from workers import
asgi, wsgi`` and Cloudflare's top-level ``import asgi``. ``Response`` is also ``runtime.Response``.

    headers.py      Headers: case-insensitive, repeated names kept, ``get`` gives None
    body.py         what a body may be (str, bytes, FormData, Blob, streams) and its content type
    response.py     Response (and FetchResponse): building, reading, sending
    request.py      Request (built, or the one a handler gets), HandlerRequest, the 100 MiB limit
    fetch.py        fetch(): outbound HTTP through httpx
    blob.py         Blob and File
    formdata.py     FormData
    entrypoints.py  WorkerEntrypoint, DurableObject, WorkflowEntrypoint, handler
    context.py      which worker and request code runs for: module-level ``env`` and ``wait_until``
    asgi.py         asgi.fetch(app, request, env): FastAPI, Starlette
    wsgi.py         wsgi.fetch(app, request, env): Django, Flask
"""

from __future__ import annotations

import sys
from typing import Any

from . import asgi, wsgi
from .blob import Blob, BlobValue, File
from .body import decode_text
from .context import current_ctx, current_scope
from .entrypoints import DurableObject, WorkerEntrypoint, WorkflowEntrypoint, handler
from .fetch import fetch
from .formdata import FormData, FormDataValue
from .headers import Headers
from .request import (
    MAX_REQUEST_BODY_BYTES,
    CfProperties,
    HandlerRequest,
    Request,
    RequestBodyTooLargeError,
    read_form,
)
from .response import FetchResponse, Response

__all__ = [
    "Blob",
    "BlobValue",
    "CfProperties",
    "DurableObject",
    "FetchResponse",
    "File",
    "FormData",
    "FormDataValue",
    "HandlerRequest",
    "Headers",
    "MAX_REQUEST_BODY_BYTES",
    "Request",
    "RequestBodyTooLargeError",
    "Response",
    "WorkerEntrypoint",
    "WorkflowEntrypoint",
    "asgi",
    "decode_text",
    "env",
    "fetch",
    "handler",
    "install_module_names",
    "read_form",
    "waitUntil",
    "wait_until",
    "wsgi",
]


def _wait_until(awaitable: Any) -> None:
    ctx = current_ctx()
    if ctx is None:
        raise RuntimeError("wait_until() is only available while a request or scheduled run is handled")
    ctx.wait_until(awaitable)


def __getattr__(name: str) -> Any:
    # As Cloudflare's SDK: `env` is the running worker's, `wait_until` extends the running request.
    if name == "env":
        scope = current_scope()
        if scope is None:
            raise RuntimeError("workers.env is only available in a worker's code (at import, or while it runs)")
        return scope.env
    if name in ("wait_until", "waitUntil"):
        return _wait_until
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install_module_names() -> None:
    """Make this package importable under Cloudflare's names: ``workers``, ``workers.asgi``, top-level ``asgi``."""
    package = sys.modules[__name__]
    sys.modules["workers"] = package
    for sub in ("asgi", "wsgi", "blob", "body", "context", "entrypoints", "fetch", "formdata", "headers"):
        sys.modules[f"workers.{sub}"] = sys.modules[f"{__name__}.{sub}"]
    sys.modules["workers.request"] = sys.modules[f"{__name__}.request"]
    sys.modules["workers.response"] = sys.modules[f"{__name__}.response"]
    sys.modules["asgi"] = asgi
