"""The dashboard's page and its scripts and styles, served from this package's ``static/`` folder.

Only the files the folder holds are served, by name (no path is ever built from the request), each
read once. Every answer carries a Content-Security-Policy that lets the page run its own scripts
and nothing else: no inline script or style, no ``eval``, no other origin, no frames; Trusted Types
make the browser refuse any HTML parsed from a string (``innerHTML``), so stored keys and values,
which are untrusted text, can only ever be shown as text (README "Dashboard").
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "serve_asset", "serve_page"]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    # A new workerhost serves a new page: the browser checks (ETag) before it uses what it kept.
    "cache-control": "no-cache",
}
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_PAGE = "index.html"


@cache
def _files() -> dict[str, tuple[bytes, str, str]]:
    """Each file of ``static/`` by name: its bytes, type and ETag."""
    found: dict[str, tuple[bytes, str, str]] = {}
    for item in resources.files(__package__).joinpath("static").iterdir():
        suffix = "." + item.name.rpartition(".")[2]
        if item.is_file() and suffix in _TYPES:
            data = item.read_bytes()
            found[item.name] = (data, _TYPES[suffix], '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
    return found


def _serve(request: Request, name: str) -> Response:
    found = _files().get(name)
    if found is None or name == _PAGE and request.url.path.endswith("/assets/" + name):
        return PlainTextResponse("Not Found", 404, headers=SECURITY_HEADERS)
    data, media_type, etag = found
    headers = {**SECURITY_HEADERS, "etag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


async def serve_page(request: Request) -> Response:
    """``GET /__workerhost/``: the page (public: it holds no data; the data takes a token if tokens are set)."""
    return _serve(request, _PAGE)


async def serve_asset(request: Request) -> Response:
    """``GET /__workerhost/assets/NAME``: one of the page's scripts or its styles."""
    return _serve(request, request.path_params["name"])
