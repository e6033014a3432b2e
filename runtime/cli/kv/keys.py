"""``workerhost kv key put|get|list|delete``: one key at a time, or a listing.

Each check is the KV service's (``bindings``), so a refused key or option reads as it would from
a handler: ``KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.``
"""

from __future__ import annotations

import argparse

from bindings.errors import KVError
from bindings.limits import MAX_LIST_LIMIT, check_int32_text, check_key
from bindings.results import ListKey
from bindings.service import BulkWrite, prepare_write

from ...errors import UsageError
from .inputs import read_value
from .output import JsonArray, json_text, stdout
from .run import refused
from .session import Session

__all__ = ["delete", "get", "list_keys", "put", "key_json"]


def checked_key(key: str, op: str) -> bytes:
    """The key's UTF-8 bytes after the service's key checks; a refusal names ``op``."""
    try:
        return check_key(key)
    except KVError as exc:
        raise refused(exc, op) from None


def key_json(key: ListKey) -> str:
    """A key as wrangler's ``kv key list`` shows it: ``{"name", "expiration"?, "metadata"?}``."""
    parts = [f'"name": {json_text(key.name)}']
    if key.expiration is not None:
        parts.append(f'"expiration": {key.expiration}')
    if key.metadata_json is not None:
        parts.append(f'"metadata": {key.metadata_json}')  # stored as JSON text already
    return "{" + ", ".join(parts) + "}"


async def put(session: Session, args: argparse.Namespace) -> int:
    """Write one value (from the argument, or ``--path``), with ``--ttl``, ``--expiration``, ``--metadata``."""
    value = read_value(args.value, args.path)
    target = await session.target(args)
    try:
        # Held to int32 as the REST API holds these parameters (wrangler's `kv key put` sends them there).
        check_int32_text(args.expiration)
        check_int32_text(args.ttl)
        write = prepare_write(BulkWrite(args.key, value, args.expiration, args.ttl, args.metadata), session.clock.now())
    except KVError as exc:
        raise refused(exc, "PUT") from None
    service = await session.writer(target)
    await service.put_many([write])
    return 0


async def get(session: Session, args: argparse.Namespace) -> int:
    """Write a value's raw bytes to stdout (or, with ``--metadata``, its metadata as JSON)."""
    key = checked_key(args.key, "GET")
    target = await session.target(args)
    service = await session.reader(target)
    found = None if service is None else await service.open(key)
    if found is None:
        raise UsageError(f"key {json_text(args.key)} not found in {target.label}")
    out = stdout()
    async with found:  # the value is not read at all for --metadata, and a failed write stops reading
        if args.metadata:
            out.write(f"{found.metadata or 'null'}\n".encode())
        else:
            async for chunk in found.chunks:
                out.write(chunk)
    out.flush()
    return 0


async def list_keys(session: Session, args: argparse.Namespace) -> int:
    """Print every key (``--prefix``, at most ``--limit``) as a JSON array, page by page."""
    target = await session.target(args)
    service = await session.reader(target)
    listing = JsonArray()
    remaining = args.limit
    cursor = None
    while service is not None and remaining != 0:
        page_size = MAX_LIST_LIMIT if remaining is None else min(MAX_LIST_LIMIT, remaining)
        try:
            page = await service.list(args.prefix, page_size, cursor)
        except KVError as exc:
            raise refused(exc, "GET") from None  # workerd names a list "GET" too
        for key in page.keys:
            listing.add(key_json(key))
        remaining = None if remaining is None else remaining - len(page.keys)
        if page.list_complete:
            break
        cursor = page.cursor
    listing.close()
    return 0


async def delete(session: Session, args: argparse.Namespace) -> int:
    """Delete one key; a missing key is not an error."""
    key = checked_key(args.key, "DELETE")
    service = await session.reader(await session.target(args))
    if service is not None:
        await service.delete(key)
    return 0
