"""``GET /__workerhost/api/session``: what the presented token may do, so the page shows only what it may use.

The REST API has no way to ask this (``/user/tokens/verify`` says a token is valid, not what it
allows). The answer hides nothing the token could not find out by trying; the API still checks
every request itself, so a page that showed a write control anyway would only get a 403.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..api.auth import Access
from .access import access_of, host_of, refusal

__all__ = ["session"]


async def session(request: Request) -> Response:
    """``{"access": "read"|"write", "tokens": bool, "account_id": ...}``; 401 without a valid token."""
    refused = refusal(request, write=False)
    if refused is not None:
        return refused
    config = host_of(request).config
    access = "write" if access_of(request) is Access.WRITE else "read"
    return JSONResponse({"access": access, "tokens": not config.api.open, "account_id": config.account_id})
