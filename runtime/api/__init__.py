"""Cloudflare's v4 REST API for Workers KV, served by the host at ``/client/v4``.

wrangler (``--remote`` with ``CLOUDFLARE_API_BASE_URL``) and the official ``cloudflare`` SDK
(``base_url=``) work against it unchanged. ``create_api`` builds the ASGI app; the host calls
``check_exposure`` at start-up to refuse an open API on a non-loopback address.

Names load lazily: ``workerhost dev`` checks exposure at start-up but builds the API itself only when
the first ``/client/v4`` request arrives, so its routes are not imported before the first response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .app import create_api
    from .auth import ApiAuth, ApiExposureError, check_exposure

__all__ = ["ApiAuth", "ApiExposureError", "check_exposure", "create_api"]

_HOMES = {"ApiAuth": ".auth", "ApiExposureError": ".auth", "check_exposure": ".auth", "create_api": ".app"}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES, __all__)
