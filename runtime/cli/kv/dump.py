"""``workerhost kv export`` and ``workerhost kv import``: a whole namespace as JSON Lines, lossless.

The format and the paging, checking and batching behind it are ``bindings.export_format``'s (the
dashboard's export and import share them); this module adds files, stdin and stdout, progress and
the CLI's messages. Import checks the whole file first (a bad line changes nothing), then writes it.
The file I/O runs off the event loop (aiofiles).
"""

from __future__ import annotations

import argparse
import asyncio
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

from bindings.catalog import is_namespace_id
from bindings.export_format import (
    BATCH_KEYS,
    FORMAT,
    VERSION,
    ExportFormatError,
    ImportFailedError,
    end_line,
    entry_write,
    export_pages,
    header_line,
    import_writes,
    numbered_lines,
    read_entries,
)
from bindings.service import KVService
from bindings.storage.base import Write

from ...errors import UsageError
from .output import Progress, counted, note, progress, stdout
from .run import refused
from .session import Session, Target

__all__ = ["BATCH_KEYS", "FORMAT", "VERSION", "export", "import_"]

_FLUSH_BYTES = 1024 * 1024  # export lines held before a write
_READ_CHUNK = 1024 * 1024


# --- export --------------------------------------------------------------------------------------


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
    count = size = 0
    buffered: list[bytes] = []
    async for lines, listed in export_pages(service):
        for line in lines:
            buffered.append(line)
            count, size = count + 1, size + len(line)
            if size >= _FLUSH_BYTES:
                await out.write(b"".join(buffered))
                buffered, size = [], 0
        bar.advance(listed)
    await out.write(b"".join(buffered))
    return count


async def export(session: Session, args: argparse.Namespace) -> int:
    """Write a namespace's keys, values, metadata and expirations as JSON Lines (stdout, or ``--output``)."""
    target = await session.named(args.namespace)
    service = await session.reader(target)
    namespace_id = target.info.id if target.info else target.declared.id if target.declared else None
    async with _output(args.output) as out:
        await out.write(header_line(namespace_id, target.title, int(time.time())))
        with progress(f"exporting {target.title}") as bar:
            count = 0 if service is None else await _export_keys(service, out, bar)
        await out.write(end_line(count))
        await out.flush()
    note(f"exported {counted(count, 'key')} from {target.label}")
    return 0


# --- import --------------------------------------------------------------------------------------


async def _lines(path: str) -> AsyncGenerator[tuple[int, bytes], None]:
    """The file's lines (without the newline), numbered from 1, read in large chunks."""
    try:
        async with aiofiles.open(path, "rb") as source:

            async def chunks() -> AsyncGenerator[bytes, None]:
                while chunk := await source.read(_READ_CHUNK):
                    yield chunk

            async with contextlib.aclosing(numbered_lines(chunks())) as lines:
                async for line in lines:
                    yield line
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _refused(path: str, exc: ExportFormatError) -> UsageError:
    if exc.refusal is not None:
        return refused(exc.refusal, "PUT", f"{path}: line {exc.line}: ")
    return UsageError(f"{path}: {exc}")


async def _entry_lines(path: str) -> AsyncGenerator[tuple[int, Any], None]:
    """The parsed entry lines of an export, after checking its header and its closing count."""
    try:
        async with contextlib.aclosing(_lines(path)) as lines, contextlib.aclosing(read_entries(lines)) as entries:
            async for number, item in entries:
                yield number, item
    except ExportFormatError as exc:
        raise _refused(path, exc) from None


def _entry_write(path: str, number: int, item: Any) -> Write:
    try:
        return entry_write(number, item)
    except ExportFormatError as exc:
        raise _refused(path, exc) from None


async def _check_file(path: str, bar: Progress) -> int:
    count = 0
    async with contextlib.aclosing(_entry_lines(path)) as entries:
        async for number, item in entries:
            _entry_write(path, number, item)
            count += 1
            bar.advance()
    return count


async def _writes(path: str, bar: Progress) -> AsyncGenerator[Write, None]:
    async with contextlib.aclosing(_entry_lines(path)) as entries:
        async for number, item in entries:
            bar.advance()
            yield _entry_write(path, number, item)


async def _write_file(path: str, service: KVService, bar: Progress) -> tuple[int, int]:
    async with contextlib.aclosing(_writes(path, bar)) as writes:
        try:
            return await import_writes(writes, service)
        except ImportFailedError as exc:
            raise UsageError(str(exc)) from None


async def _import_target(session: Session, name: str) -> tuple[Target, bool]:
    try:
        return await session.named(name), False
    except UsageError:
        if is_namespace_id(name):
            raise
    info = await session.store.create_namespace(name)
    session.namespace_changed("namespace_create", info)
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
    note(f"imported {counted(written, 'key')} into {target.label}{made}{skipped}")
    return 0
