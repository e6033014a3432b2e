"""``GET /__workerhost/api/changes``: the live feed of KV changes as server-sent events.

Each change is one ``change`` event whose data is the JSON of ``bindings.changes.ChangeEvent``
(``at``, ``op``, ``namespace``, ``keys``, ``count``, ``source``, ``title``); a subscriber too slow to
keep up gets a ``missed`` event with how many it lost. A comment line every ``KEEP_ALIVE`` seconds
keeps the connection from being taken for idle. The stream ends when the host stops (before the
server waits for open requests to finish). A read token will do.

The page reads it with ``fetch`` rather than ``EventSource``, which cannot send the token.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bindings.changes import ChangeFeed, Missed

from ..api.envelope import CF_NO_ROUTE, ApiError
from .access import host_of, refusal

__all__ = ["KEEP_ALIVE", "changes"]

KEEP_ALIVE = 15.0


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _stream(feed: ChangeFeed) -> AsyncIterator[bytes]:
    subscription = feed.subscribe()  # before the first line: a client that saw it misses nothing after
    try:
        yield b"retry: 2000\n: connected\n\n"
        while True:
            item = await subscription.next(KEEP_ALIVE)
            if item is None:
                if feed.ending or feed.closed:
                    return
                yield b": keep-alive\n\n"
            elif isinstance(item, Missed):
                yield _event("missed", {"count": item.count})
            else:
                yield _event("change", item.to_json())
    finally:
        subscription.close()


async def changes(request: Request) -> Response:
    """Stream every KV change from now on (this host's own at once, other processes' within 0.1 s)."""
    refused = refusal(request, write=False)
    if refused is not None:
        return refused
    feed = host_of(request).changes
    if feed is None:
        missing = "this host keeps no live feed (it is not served by workerhost dev)"
        return ApiError(404, CF_NO_ROUTE, missing).response()
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    return StreamingResponse(_stream(feed), media_type="text/event-stream", headers=headers)
