"""Cloudflare's v4 REST API for Workers KV, served by the host at ``/client/v4``.

wrangler (``--remote`` with ``CLOUDFLARE_API_BASE_URL``) and the official ``cloudflare`` SDK
(``base_url=``) work against it unchanged. ``create_api`` builds the ASGI app.

It loads lazily: ``workerhost dev`` builds the API only when the first ``/client/v4`` request
arrives, so its routes are not imported before the first response. It depends on ``runtime.config``
and ``bindings`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .app import create_api

__all__ = ["create_api"]

_HOMES = {"create_api": ".app"}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES, __all__)
