"""Cloudflare's v4 REST API for Workers KV, served by the host at ``/client/v4``.

wrangler (``--remote`` with ``CLOUDFLARE_API_BASE_URL``) and the official ``cloudflare`` SDK
(``base_url=``) work against it unchanged. ``create_api`` builds the ASGI app; the host calls
``check_exposure`` at start-up to refuse an open API on a non-loopback address.
"""

from __future__ import annotations

from .app import create_api
from .auth import ApiAuth, ApiExposureError, check_exposure

__all__ = ["ApiAuth", "ApiExposureError", "check_exposure", "create_api"]
