"""``fetch(url_or_request, ...)``: outbound HTTP from a worker, through httpx, async.

It takes what Workers' ``fetch`` takes: a URL or a ``Request``, and ``method``, ``headers``, ``body``
(str, bytes, ``FormData``, ``Blob`` or a stream) and ``redirect`` (``"follow"``, the default, or
``"manual"``); ``cf`` options are accepted and have no effect locally. It returns a ``Response``
whose ``status``, ``headers`` and ``url`` are the server's, read with ``await .text()``, ``.json()``,
``.bytes()``; returned from a handler as it is, it is passed through.

The body arrives decoded (gzip and the like undone), so ``Content-Encoding`` and ``Content-Length``
are dropped from the headers: they described the bytes on the wire. A network failure raises
``OSError`` with httpx's reason, as Cloudflare's SDK raises it.

A worker whose scope names an ``outbound`` transport sends through it instead of the network: that
is how a test answers a handler's requests (README "Testing your handlers").
"""

from __future__ import annotations

from typing import Any

from .body import coerce_body
from .context import current_scope
from .headers import Headers
from .request import Request
from .response import Response

__all__ = ["fetch"]

# Cloudflare's edge waits up to 100 s for an origin's answer; waiting longer helps nobody.
TIMEOUT = 100.0
_DROPPED = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


async def fetch(resource: Any, **options: Any) -> Response:
    """Send a request and return the response (see the module docstring)."""
    import httpx  # imported on first use: most workers never fetch

    request = (
        resource if isinstance(resource, Request) else Request(resource if isinstance(resource, str) else str(resource))
    )
    method = str(getattr(options.get("method"), "value", options.get("method") or request.method)).upper()
    headers = Headers(options["headers"]) if options.get("headers") is not None else Headers(request.headers)
    redirect = options.get("redirect") or request.redirect
    if redirect not in ("follow", "manual", "error"):
        raise TypeError(f'redirect must be "follow", "manual" or "error", got {redirect!r}')
    if options.get("body") is not None:
        data, stream, implied = coerce_body(options["body"], "fetch")
        if implied and not headers.has("content-type"):
            headers.set("content-type", implied)
    else:
        data, stream = (
            (await request.read_body() if request.starlette is not None or request._stream else request._body),
            None,
        )
    content: Any = stream if stream is not None else data
    scope = current_scope()
    transport = None if scope is None else scope.outbound
    try:
        async with httpx.AsyncClient(
            follow_redirects=redirect == "follow", timeout=TIMEOUT, transport=transport
        ) as client:
            answer = await client.request(method, request.url, headers=headers.items(), content=content)
            body = answer.content
    except httpx.HTTPError as exc:
        raise OSError(f"fetch {method} {request.url} failed: {exc.__class__.__name__}: {exc}") from None
    if redirect == "error" and answer.is_redirect:
        raise OSError(f'fetch {method} {request.url} was redirected, and redirect is "error"')
    pairs = [(name, value) for name, value in answer.headers.multi_items() if name.lower() not in _DROPPED]
    status = answer.status_code if 200 <= answer.status_code <= 599 else 502
    return Response(body, status, answer.reason_phrase, pairs, url=str(answer.url))
