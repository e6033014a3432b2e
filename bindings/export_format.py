"""A whole namespace as JSON Lines, lossless: what ``workerhost kv export`` writes and ``import`` reads.

The dashboard's export and import use it too, so a file from either reads in the other. The format,
one JSON object per line::

    {"format": "workerhost-kv-export", "version": 1, "namespace": {"id": ..., "title": ...}, "exported_at": 1767225600}
    {"key": "greeting", "value": "hello"}
    {"key": "logo.png", "value": "iVBORw0K", "base64": true, "expiration": 1767312000, "metadata": {"type": "png"}}
    {"end": true, "count": 2}

* A value is UTF-8 text, or base64 with ``"base64": true`` when it is not valid UTF-8 (binary).
* ``expiration`` is absolute (seconds since the epoch) and ``metadata`` any JSON value; both only when set.
* The last line carries the count: a file cut short (a full disk, a killed export) is refused.
* The entry lines are wrangler's bulk-put items, so ``jq -s '.[1:-1]'`` turns an export into a
  ``kv bulk put`` file.

Exporting pages through the namespace (1000 keys a page, values read in batches of about
``BATCH_BYTES``), so it never holds the whole namespace. Importing checks a line as a put would be
checked, except that expirations are kept exactly as exported, not held to "60 seconds from now",
so a round trip is lossless; keys already expired at import time are skipped and counted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Sequence
from typing import Any

from .bulk_format import BulkItemError, pair
from .errors import KVError, StorageError
from .javascript import parse_json
from .limits import MAX_LIST_LIMIT, check_key, check_metadata, check_value_size
from .service import KVService
from .storage.base import Entry, Write

__all__ = [
    "BATCH_BYTES",
    "BATCH_KEYS",
    "FORMAT",
    "VERSION",
    "ExportFormatError",
    "ImportFailedError",
    "end_line",
    "entry_line",
    "entry_write",
    "export_pages",
    "header_line",
    "import_writes",
    "numbered_lines",
    "read_entries",
]

FORMAT = "workerhost-kv-export"
VERSION = 1
BATCH_KEYS = 1000
BATCH_BYTES = 16 * 1024 * 1024  # value bytes held at once: per import transaction, per export read
_FIELDS = ("key", "value", "base64", "expiration", "metadata")


class ExportFormatError(ValueError):
    """A file that is not a whole, well-formed export: the message says where and how (``line 3: ...``).

    ``refusal`` is the KV service's own error when a line holds a pair a put would refuse (a key of
    513 bytes), and ``line`` its number.
    """

    def __init__(self, message: str, line: int | None = None, refusal: KVError | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.refusal = refusal


class ImportFailedError(StorageError):
    """The store failed midway through an import: ``written`` keys were imported before it."""

    def __init__(self, cause: StorageError, written: int) -> None:
        super().__init__(f"{cause} ({written} keys were imported before the failure)")
        self.written = written


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


# --- writing -------------------------------------------------------------------------------------


def header_line(namespace_id: str | None, title: str, exported_at: int) -> bytes:
    """The first line: the format, and which namespace it was, when."""
    namespace = {"id": namespace_id, "title": title}
    header = {"format": FORMAT, "version": VERSION, "namespace": namespace, "exported_at": exported_at}
    return f"{_json(header)}\n".encode()


def entry_line(name: str, entry: Entry) -> bytes:
    """One key as an export line."""
    try:
        value = f'"value": {_json(entry.value.decode("utf-8"))}'
    except UnicodeDecodeError:
        value = f'"value": "{base64.b64encode(entry.value).decode("ascii")}", "base64": true'
    parts = [f'"key": {_json(name)}', value]
    if entry.expiration is not None:
        parts.append(f'"expiration": {entry.expiration}')
    if entry.metadata is not None:
        parts.append(f'"metadata": {entry.metadata}')  # stored as JSON text already
    return ("{" + ", ".join(parts) + "}\n").encode("utf-8")


def end_line(count: int) -> bytes:
    """The last line, which says how many keys came before it."""
    return f'{{"end": true, "count": {count}}}\n'.encode()


async def export_pages(service: KVService) -> AsyncGenerator[tuple[list[bytes], int], None]:
    """The namespace's entry lines, a page at a time, with how many keys each page listed."""
    cursor = None
    while True:
        page = await service.list(None, MAX_LIST_LIMIT, cursor)
        lines = [line async for line in _entries(service, [key.name for key in page.keys])]
        yield lines, len(page.keys)
        if page.list_complete:
            return
        cursor = page.cursor


async def _entries(service: KVService, names: list[str]) -> AsyncIterator[bytes]:
    # The heads say how big each value is, so values are read in batches of about BATCH_BYTES:
    # a page of 1000 keys may hold 1000 values of 25 MiB.
    now = service.clock.now()
    keys = [name.encode("utf-8") for name in names]
    batch: list[tuple[str, bytes]] = []
    size = 0
    for name, key, head in zip(names, keys, await service.storage.heads(keys), strict=True):
        if head is None or _expired(head.expiration, now):
            continue  # deleted or expired since it was listed
        if batch and size + head.size > BATCH_BYTES:
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


# --- reading -------------------------------------------------------------------------------------


def _parse(number: int, line: bytes) -> Any:
    try:
        return parse_json(line)
    except (ValueError, RecursionError) as exc:
        raise ExportFormatError(f"line {number}: not valid JSON: {exc}", number) from None


def _check_header(line: bytes | None) -> None:
    header = None if line is None else _parse(1, line)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ExportFormatError(f'not a workerhost export: line 1 should be a header with "format": "{FORMAT}"', 1)
    if header.get("version") != VERSION:
        raise ExportFormatError(f"export format version {header.get('version')!r}; this workerhost reads {VERSION}", 1)


def entry_write(number: int, item: Any) -> Write:
    """One parsed entry line as a write, after the service's checks on key, metadata and value size."""
    where = f"line {number}: "
    if isinstance(item, dict) and (unknown := sorted(set(item) - set(_FIELDS))):
        raise ExportFormatError(f'{where}unknown field "{unknown[0]}"; expected {", ".join(_FIELDS)}', number)
    try:
        wire = pair(number, item)
    except BulkItemError as exc:
        raise ExportFormatError(where + exc.problem, number) from None
    expiration = item.get("expiration")
    if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int) or expiration < 0):
        raise ExportFormatError(f'{where}"expiration" must be a whole number of seconds since the epoch', number)
    try:
        key = check_key(wire.key)
        metadata = check_metadata(wire.metadata)
        check_value_size(len(wire.value))
    except KVError as exc:
        raise ExportFormatError(f"{where}{exc.for_op('PUT')}", number, exc) from None
    return Write(key, wire.value, expiration, metadata)


async def numbered_lines(chunks: AsyncIterable[bytes]) -> AsyncGenerator[tuple[int, bytes], None]:
    """A file's lines from its ``chunks``, without their newlines, numbered from 1 (for ``read_entries``)."""
    number = 0
    pending: list[bytes] = []  # the pieces of a line longer than a chunk (a large base64 value)
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending.append(chunk[start:end])
            number += 1
            yield number, b"".join(pending)
            pending, start = [], end + 1
        pending.append(chunk[start:])
    if any(pending):
        yield number + 1, b"".join(pending)


async def read_entries(lines: AsyncIterable[tuple[int, bytes]]) -> AsyncGenerator[tuple[int, Any], None]:
    """The parsed entry lines of an export, after checking its header, and at the end its closing count.

    ``lines`` are the file's lines without their newlines, numbered from 1.
    """
    count, end = 0, None
    iterator = aiter(lines)
    first = await anext(iterator, None)
    _check_header(None if first is None else first[1])
    async for number, line in iterator:
        if not line.strip():
            continue
        if end is not None:
            raise ExportFormatError(f'line {number}: more after the closing {{"end": true}} line', number)
        item = _parse(number, line)
        if isinstance(item, dict) and "end" in item:
            end = item
            continue
        count += 1
        yield number, item
    if not isinstance(end, dict) or end.get("end") is not True:
        raise ExportFormatError('has no closing {"end": true, "count": ...} line: the export is incomplete')
    if end.get("count") != count:
        raise ExportFormatError(f"has {count} keys but its closing line says {end.get('count')!r}: it is damaged")


async def import_writes(writes: AsyncIterable[Write], service: KVService) -> tuple[int, int]:
    """Write ``writes`` in transactions of up to ``BATCH_KEYS`` keys (or ``BATCH_BYTES``), skipping the
    expired; returns (written, skipped as expired). Raises ``ImportFailedError`` if the store fails."""
    now = service.clock.now()
    written = expired = size = 0
    batch: list[Write] = []

    async def commit(pending: Sequence[Write]) -> None:
        try:
            await service.put_many(pending)
        except StorageError as exc:
            raise ImportFailedError(exc, written) from None

    async for write in writes:
        if write.expiration is not None and write.expiration <= now:
            expired += 1
            continue
        batch.append(write)
        size += len(write.value)
        if len(batch) >= BATCH_KEYS or size >= BATCH_BYTES:
            await commit(batch)
            written, batch, size = written + len(batch), [], 0
    if batch:
        await commit(batch)
    return written + len(batch), expired
