"""``workerhost kv export`` and ``workerhost kv import``: a whole namespace as JSON Lines, lossless.

The format, one JSON object per line::

    {"format": "workerhost-kv-export", "version": 1, "namespace": {"id": ..., "title": ...}, "exported_at": 1767225600}
    {"key": "greeting", "value": "hello"}
    {"key": "logo.png", "value": "iVBORw0K", "base64": true, "expiration": 1767312000, "metadata": {"type": "png"}}
    {"end": true, "count": 2}

* A value is UTF-8 text, or base64 with ``"base64": true`` when it is not valid UTF-8 (binary).
* ``expiration`` is absolute (seconds since the epoch) and ``metadata`` any JSON value; both only when set.
* The last line carries the count: a file cut short (a full disk, a killed export) is refused.
* The entry lines are wrangler's bulk-put items, so ``jq -s '.[1:-1]'`` turns an export into a
  ``kv bulk put`` file.

Export pages through the namespace (1000 keys a page, values read per page), so it never holds the
whole namespace. Import checks the whole file first (a bad line changes nothing), then writes it
in transactions of up to ``BATCH_KEYS`` keys. Expirations are kept exactly as exported, not held to
"60 seconds from now" as a put is, so a round trip is lossless; keys already expired at import
time are skipped and counted. The file I/O runs off the event loop (aiofiles).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, BinaryIO

import aiofiles

from bindings.bulk_format import BulkItemError, pair
from bindings.catalog import is_namespace_id
from bindings.errors import KVError, StorageError
from bindings.javascript import parse_json
from bindings.limits import MAX_LIST_LIMIT, check_key, check_metadata, check_value_size
from bindings.service import KVService
from bindings.storage.base import Entry, Write

from ...errors import UsageError
from .output import Progress, json_text, note, progress, stdout
from .run import refused
from .session import Session, Target

__all__ = ["BATCH_KEYS", "FORMAT", "VERSION", "export", "import_"]

FORMAT = "workerhost-kv-export"
VERSION = 1
BATCH_KEYS = 1000
_BATCH_BYTES = 16 * 1024 * 1024  # value bytes held at once: per import transaction, per export read
_FLUSH_BYTES = 1024 * 1024  # export lines held before a write
_READ_CHUNK = 1024 * 1024
_FIELDS = ("key", "value", "base64", "expiration", "metadata")


# --- export --------------------------------------------------------------------------------------


def entry_line(name: str, entry: Entry) -> bytes:
    """One key as an export line."""
    try:
        value = f'"value": {json_text(entry.value.decode("utf-8"))}'
    except UnicodeDecodeError:
        value = f'"value": "{base64.b64encode(entry.value).decode("ascii")}", "base64": true'
    parts = [f'"key": {json_text(name)}', value]
    if entry.expiration is not None:
        parts.append(f'"expiration": {entry.expiration}')
    if entry.metadata is not None:
        parts.append(f'"metadata": {entry.metadata}')  # stored as JSON text already
    return ("{" + ", ".join(parts) + "}\n").encode("utf-8")


async def _entries(service: KVService, names: list[str]) -> AsyncIterator[bytes]:
    # The heads say how big each value is, so values are read in batches of about _BATCH_BYTES:
    # a page of 1000 keys may hold 1000 values of 25 MiB.
    now = service.clock.now()
    keys = [name.encode("utf-8") for name in names]
    batch: list[tuple[str, bytes]] = []
    size = 0
    for name, key, head in zip(names, keys, await service.storage.heads(keys), strict=True):
        if head is None or _expired(head.expiration, now):
            continue  # deleted or expired since it was listed
        if batch and size + head.size > _BATCH_BYTES:
            for line in await _export_lines(service, batch, now):
                yield line
            batch, size = [], 0
        batch.append((name, key))
        size += head.size
    for line in await _export_lines(service, batch, now):
        yield line


async def _export_lines(service: KVService, batch: list[tuple[str, bytes]], now: float) -> list[bytes]:
    entries = await service.storage.get_many([key for _, key in batch])
    return [
        entry_line(name, entry)
        for (name, _), entry in zip(batch, entries, strict=True)
        if entry is not None and not _expired(entry.expiration, now)
    ]


def _expired(expiration: int | None, now: float) -> bool:
    return expiration is not None and expiration <= now


@contextlib.asynccontextmanager
async def _output(path: str | None) -> AsyncIterator[Any]:
    if path is not None and path != "-":
        try:
            async with aiofiles.open(path, "wb") as out:
                yield out
        except OSError as exc:
            raise UsageError(f"{path}: cannot be written: {exc.strerror or exc}") from None
        return
    sys.stdout.flush()
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, io.UnsupportedOperation):  # stdout replaced in-process (tests, embedding)
        yield _ThreadedWriter(stdout())
        return
    async with aiofiles.open(descriptor, "wb", closefd=False) as out:
        yield out


class _ThreadedWriter:
    """The aiofiles calls export makes, on a stream that has no file descriptor."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self._stream.write, data)

    async def flush(self) -> None:
        await asyncio.to_thread(self._stream.flush)


async def _export_keys(service: KVService, out: Any, bar: Progress) -> int:
    count, cursor = 0, None
    buffered: list[bytes] = []
    size = 0
    while True:
        page = await service.list(None, MAX_LIST_LIMIT, cursor)
        async for line in _entries(service, [key.name for key in page.keys]):
            buffered.append(line)
            count, size = count + 1, size + len(line)
            if size >= _FLUSH_BYTES:
                await out.write(b"".join(buffered))
                buffered, size = [], 0
        bar.advance(len(page.keys))
        if page.list_complete:
            break
        cursor = page.cursor
    await out.write(b"".join(buffered))
    return count


async def export(session: Session, args: argparse.Namespace) -> int:
    """Write a namespace's keys, values, metadata and expirations as JSON Lines (stdout, or ``--output``)."""
    target = await session.named(args.namespace)
    service = await session.reader(target)
    namespace_id = target.info.id if target.info else target.declared and target.declared.id
    namespace = {"id": namespace_id, "title": target.title}
    header = {"format": FORMAT, "version": VERSION, "namespace": namespace, "exported_at": int(time.time())}
    async with _output(args.output) as out:
        await out.write(f"{json_text(header)}\n".encode())
        with progress(f"exporting {target.title}") as bar:
            count = 0 if service is None else await _export_keys(service, out, bar)
        await out.write(f'{{"end": true, "count": {count}}}\n'.encode())
        await out.flush()
    note(f"exported {count} keys from {target.label}")
    return 0


# --- import --------------------------------------------------------------------------------------


async def _lines(path: str) -> AsyncGenerator[tuple[int, bytes], None]:
    """The file's lines (without the newline), numbered from 1, read in large chunks."""
    number = 0
    pending: list[bytes] = []  # the pieces of a line longer than a chunk (a large base64 value)
    try:
        async with aiofiles.open(path, "rb") as source:
            while chunk := await source.read(_READ_CHUNK):
                start = 0
                while (end := chunk.find(b"\n", start)) != -1:
                    pending.append(chunk[start:end])
                    number += 1
                    yield number, b"".join(pending)
                    pending, start = [], end + 1
                pending.append(chunk[start:])
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if any(pending):
        yield number + 1, b"".join(pending)


def _parse(path: str, number: int, line: bytes) -> Any:
    try:
        return parse_json(line)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: line {number}: not valid JSON: {exc}") from None


def _check_header(path: str, line: bytes | None) -> None:
    header = None if line is None else _parse(path, 1, line)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise UsageError(f'{path}: not a workerhost export: line 1 should be a header with "format": "{FORMAT}"')
    if header.get("version") != VERSION:
        raise UsageError(f"{path}: export format version {header.get('version')!r}; this workerhost reads {VERSION}")


def entry_write(path: str, number: int, item: Any) -> Write:
    """One parsed export line as a write, after the service's checks on key, metadata and value size."""
    where = f"{path}: line {number}: "
    if isinstance(item, dict) and (unknown := sorted(set(item) - set(_FIELDS))):
        raise UsageError(f'{where}unknown field "{unknown[0]}"; expected {", ".join(_FIELDS)}')
    try:
        wire = pair(number, item)
    except BulkItemError as exc:
        raise UsageError(where + exc.problem) from None
    expiration = item.get("expiration")
    if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int) or expiration < 0):
        raise UsageError(f'{where}"expiration" must be a whole number of seconds since the epoch')
    try:
        key = check_key(wire.key)
        metadata = check_metadata(wire.metadata)
        check_value_size(len(wire.value))
    except KVError as exc:
        raise refused(exc, "PUT", where) from None
    return Write(key, wire.value, expiration, metadata)


async def _entry_lines(path: str) -> AsyncGenerator[tuple[int, Any], None]:
    """The parsed entry lines of an export, after checking its header and its closing count."""
    count, end = 0, None
    async with contextlib.aclosing(_lines(path)) as lines:
        first = await anext(lines, None)
        _check_header(path, None if first is None else first[1])
        async for number, line in lines:
            if not line.strip():
                continue
            if end is not None:
                raise UsageError(f'{path}: line {number}: more after the closing {{"end": true}} line')
            item = _parse(path, number, line)
            if isinstance(item, dict) and "end" in item:
                end = item
                continue
            count += 1
            yield number, item
    if not isinstance(end, dict) or end.get("end") is not True:
        raise UsageError(f'{path}: has no closing {{"end": true, "count": ...}} line: the export is incomplete')
    if end.get("count") != count:
        raise UsageError(f"{path}: has {count} keys but its closing line says {end.get('count')!r}: it is damaged")


async def _check_file(path: str, bar: Progress) -> int:
    count = 0
    async with contextlib.aclosing(_entry_lines(path)) as entries:
        async for number, item in entries:
            entry_write(path, number, item)
            count += 1
            bar.advance()
    return count


async def _write_file(path: str, service: KVService, bar: Progress) -> tuple[int, int]:
    now = service.clock.now()
    written = expired = size = 0
    batch: list[Write] = []
    try:
        async with contextlib.aclosing(_entry_lines(path)) as entries:
            async for number, item in entries:
                write = entry_write(path, number, item)
                bar.advance()
                if write.expiration is not None and write.expiration <= now:
                    expired += 1
                    continue
                batch.append(write)
                size += len(write.value)
                if len(batch) >= BATCH_KEYS or size >= _BATCH_BYTES:
                    await service.put_many(batch)
                    written, batch, size = written + len(batch), [], 0
        if batch:
            await service.put_many(batch)
    except StorageError as exc:
        raise UsageError(f"{exc} ({written} keys were imported before the failure)") from None
    return written + len(batch), expired


async def _import_target(session: Session, name: str) -> tuple[Target, bool]:
    try:
        return await session.named(name), False
    except UsageError:
        if is_namespace_id(name):
            raise
    info = await session.store.create_namespace(name)
    return Target(f'namespace "{info.title}"', info), True


@contextlib.contextmanager
def _spooled(path: str) -> Iterator[str]:
    # Import reads its file twice (check, then write), so stdin is copied to a temporary file first.
    if path != "-":
        yield path
        return
    handle, spool = tempfile.mkstemp(prefix="workerhost-import-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "wb") as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy, _READ_CHUNK)
        yield spool
    finally:
        os.unlink(spool)


async def import_(session: Session, args: argparse.Namespace) -> int:
    """Write every key of an export into a namespace (created if no namespace has that title)."""
    with _spooled(args.file) as path, progress(f"checking {args.file}") as bar:
        total = await _check_file(path, bar)
        target, created = await _import_target(session, args.namespace)
        service = await session.writer(target)
        bar.step(f"importing into {target.title}", total)
        written, expired = await _write_file(path, service, bar)
    skipped = f"; skipped {expired} that had already expired" if expired else ""
    made = " (created it)" if created else ""
    note(f"imported {written} keys into {target.label}{made}{skipped}")
    return 0
