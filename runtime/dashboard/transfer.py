"""Export and import of a whole namespace, in ``workerhost kv export``'s format (``bindings.export_format``).

The REST API has nothing that does either losslessly: it cannot write an expiration less than 60
seconds away, which an import must keep exactly, and an export through it would take a request
per binary value. These endpoints share the CLI's code, so a file from one reads in the other.

* ``GET /__workerhost/api/namespaces/{id}/export`` streams the file (a read token will do); it pages
  through the namespace and never holds it.
* ``POST /__workerhost/api/namespaces/{id}/import`` takes the file as the request body (a write
  token): the body is spooled (in memory up to 16 MiB, then to a temporary file, at most
  ``MAX_IMPORT_BYTES``), checked whole, and only then written, in transactions of 1,000 keys; a bad
  line changes nothing and its error names the line. Other keys of the namespace are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import IO, Any
from urllib.parse import quote

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from bindings.catalog import is_namespace_id
from bindings.changes import observed
from bindings.errors import NamespaceNotFoundError
from bindings.export_format import (
    ExportFormatError,
    end_line,
    entry_write,
    export_pages,
    header_line,
    import_writes,
    numbered_lines,
    read_entries,
)
from bindings.service import KVService
from bindings.storage.base import NamespaceInfo, Write

from ..api.envelope import CF_VALIDATION, ApiError, to_api_error
from .access import DashboardHost, host_of, refusal

__all__ = ["MAX_IMPORT_BYTES", "SOURCE", "export_namespace", "import_namespace"]

SOURCE = "dashboard import"  # who the live feed says wrote an import's keys
MAX_IMPORT_BYTES = 1024 * 1024 * 1024
_IN_MEMORY = 16 * 1024 * 1024
_READ_CHUNK = 1024 * 1024
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _refused(exc: Exception, operation: str) -> Response:
    error = to_api_error(exc)
    if error is None:
        raise exc
    return error.response(operation)


async def _namespace(host: DashboardHost, namespace_id: str) -> NamespaceInfo:
    info = await host.store.get_namespace(namespace_id) if is_namespace_id(namespace_id) else None
    if info is None:
        raise NamespaceNotFoundError(namespace_id)
    return info


def _attachment(title: str) -> str:
    # The title is anyone's text: an ASCII stand-in, and the exact name percent-encoded (RFC 6266).
    fallback = _UNSAFE_NAME.sub("_", title).strip("._") or "namespace"
    return f"attachment; filename=\"{fallback[:100]}.jsonl\"; filename*=UTF-8''{quote(title[:200], safe='')}.jsonl"


async def export_namespace(request: Request) -> Response:
    """Stream the namespace's export file, as ``workerhost kv export`` writes it."""
    blocked = refusal(request, write=False)
    if blocked is not None:
        return blocked
    host = host_of(request)
    try:
        info = await _namespace(host, request.path_params["namespace_id"])
        service = KVService(await host.store.namespace(info.id), host.clock)
    except Exception as exc:
        return _refused(exc, "export")

    async def lines() -> AsyncIterator[bytes]:
        yield header_line(info.id, info.title, int(time.time()))
        count = 0
        async for page, _ in export_pages(service):
            count += len(page)
            yield b"".join(page)
        yield end_line(count)

    headers = {"content-disposition": _attachment(info.title)}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


async def _spool(request: Request) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_IMPORT_BYTES:
                raise ApiError(413, CF_VALIDATION, f"an import file may hold at most {MAX_IMPORT_BYTES} bytes")
            await asyncio.to_thread(spool.write, chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


async def _chunks(spool: IO[bytes]) -> AsyncGenerator[bytes, None]:
    """The spooled file from its start, in large chunks."""
    await asyncio.to_thread(spool.seek, 0)
    while chunk := await asyncio.to_thread(spool.read, _READ_CHUNK):
        yield chunk


async def _writes(spool: IO[bytes]) -> AsyncGenerator[Write, None]:
    lines = numbered_lines(_chunks(spool))
    async with contextlib.aclosing(lines), contextlib.aclosing(read_entries(lines)) as entries:
        async for number, item in entries:
            yield entry_write(number, item)


async def _check(spool: IO[bytes]) -> int:
    count = 0
    async with contextlib.aclosing(_writes(spool)) as writes:
        async for _ in writes:
            count += 1
    return count


def _format_error(exc: ExportFormatError) -> ApiError:
    if exc.refusal is not None:
        return ApiError(exc.refusal.status, exc.refusal.code or CF_VALIDATION, str(exc))
    return ApiError(400, CF_VALIDATION, str(exc))


async def import_namespace(request: Request) -> Response:
    """Write every key of an export file into the namespace: ``{"imported": n, "expired": n}``."""
    blocked = refusal(request, write=True)
    if blocked is not None:
        return blocked
    host = host_of(request)
    try:
        info = await _namespace(host, request.path_params["namespace_id"])
        spool = await _spool(request)
    except ClientDisconnect:
        return ApiError(400, CF_VALIDATION, "the client closed the request early").response("import")
    except Exception as exc:
        return _refused(exc, "import")
    try:
        with spool:
            await _check(spool)
            storage = observed(await host.store.namespace(info.id), host.changes, info.id, SOURCE)
            async with contextlib.aclosing(_writes(spool)) as writes:
                written, expired = await import_writes(writes, KVService(storage, host.clock))
    except ExportFormatError as exc:
        return _format_error(exc).response("import")
    except Exception as exc:
        return _refused(exc, "import")
    body: dict[str, Any] = {"imported": written, "expired": expired, "namespace": info.id}
    return JSONResponse(body)
