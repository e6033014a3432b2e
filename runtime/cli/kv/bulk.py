"""``workerhost kv bulk put|delete|get FILE``, in wrangler's JSON formats.

* put: ``[{"key", "value", "expiration"?, "expiration_ttl"?, "metadata"?, "base64"?}, ...]``
* delete and get: ``["key", ...]`` or ``[{"name": "key"}, ...]``

The whole file is checked before anything is written, each pair exactly as a single put would
be, so a bad item (reported by its index) changes nothing. Pairs are then written in transactions
of ``BATCH`` (10,000, the REST API's limit per request): a file of up to 10,000 pairs is all or
nothing; a larger one can be left part-written only by a storage failure (a full disk) during
the write, and the error then says how many pairs were written.

``bulk get`` prints a JSON object of key → value (null when missing), as ``wrangler kv bulk get``
prints the REST API's answer; ``--metadata`` gives ``{"value", "metadata", "expiration"?}`` per
key, and ``--base64`` prints values base64-encoded, for binary values (which are refused
otherwise: JSON has no bytes).
"""

from __future__ import annotations

import argparse
import base64
import difflib
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bindings.bulk_format import BulkItemError, key_name, pair
from bindings.errors import KVError, StorageError
from bindings.limits import MAX_BULK_WRITE_PAIRS, check_key
from bindings.service import KVService, prepare_write
from bindings.storage.base import Entry, Write

from ...errors import UsageError
from .inputs import read_array
from .output import JsonObject, Progress, counted, json_text, note, progress
from .run import refused
from .session import Session

__all__ = ["BATCH", "delete", "get", "put"]

T = TypeVar("T")
BATCH = MAX_BULK_WRITE_PAIRS
_TICK = 1000  # items checked between progress updates
PAIR_FIELDS = ("key", "value", "expiration", "expiration_ttl", "metadata", "base64")
_PUT_ITEMS = '{"key", "value"} objects'
_KEY_ITEMS = 'key names (strings, or {"name": key} objects)'


def _check_all(path: str, items: list[object], check: Callable[[int, object], T], op: str, bar: Progress) -> list[T]:
    checked = []
    for index, item in enumerate(items):
        try:
            checked.append(check(index, item))
        except BulkItemError as exc:
            raise UsageError(f"{path}: {exc}") from None
        except KVError as exc:
            raise refused(exc, op, f"{path}: item {index}: ") from None
        if index % _TICK == _TICK - 1:
            bar.advance(_TICK)
    bar.advance(len(items) % _TICK)
    return checked


async def _in_batches(
    items: Sequence[T], apply: Callable[[Sequence[T]], Awaitable[None]], bar: Progress, done: str
) -> None:
    written = 0
    try:
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            await apply(batch)
            written += len(batch)
            bar.advance(len(batch))
    except StorageError as exc:
        raise UsageError(f"{exc} ({written} of {len(items)} {done} before the failure)") from None


async def put(session: Session, args: argparse.Namespace) -> int:
    """Write every pair of a wrangler bulk-put file."""
    items = read_array(args.file, _PUT_ITEMS)
    target = await session.target(args)
    now = session.clock.now()
    with progress(f"checking {args.file}", len(items)) as bar:
        writes: list[Write] = _check_all(
            args.file, items, lambda i, item: prepare_write(pair(i, item), now), "PUT", bar
        )
        service = await session.writer(target)
        bar.step(f"writing to {target.title}", len(writes))
        await _in_batches(writes, service.put_many, bar, "pairs were written")
    _warn_unknown(args.file, items)
    note(f"wrote {counted(len(writes), 'pair')} to {target.label}")
    return 0


def _warn_unknown(path: str, items: list[object]) -> None:
    # wrangler warns about properties a bulk file's pairs have that it does not use; so do we, once each.
    first: dict[str, int] = {}
    counts: dict[str, int] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict):
            for key in item:
                if key not in PAIR_FIELDS:
                    first.setdefault(key, index)
                    counts[key] = counts.get(key, 0) + 1
    for key, index in first.items():
        close = difflib.get_close_matches(str(key), PAIR_FIELDS, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        note(
            f'warning: {path}: item {index}: unknown property "{key}" is ignored{hint}; expected '
            f"{', '.join(PAIR_FIELDS)} ({counted(counts[key], 'item')} have it)"
        )


def _confirmed(question: str) -> bool:
    # Asked only at a terminal, as wrangler asks; scripts (and -f, -y) go ahead.
    if not sys.stdin.isatty():
        return True
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _key(index: int, item: object) -> str:
    name = key_name(index, item)
    check_key(name)
    return name


async def delete(session: Session, args: argparse.Namespace) -> int:
    """Delete every key a wrangler bulk-delete file names; missing keys are not an error."""
    items = read_array(args.file, _KEY_ITEMS)
    target = await session.target(args)
    with progress(f"checking {args.file}", len(items)) as bar:
        names = _check_all(args.file, items, _key, "DELETE", bar)
    if not args.force and not _confirmed(f"Delete {counted(len(names), 'key')} from {target.label}?"):
        note("not deleted")
        return 1
    with progress(f"deleting from {target.title}", len(names)) as bar:
        service = await session.reader(target)
        if service is not None:
            await _in_batches(names, service.delete_many, bar, "keys were deleted")
    note(f"deleted {counted(len(names), 'key')} from {target.label}")
    return 0


def _value_json(key: str, entry: Entry, args: argparse.Namespace) -> str:
    if args.base64:
        value = json_text(base64.b64encode(entry.value).decode("ascii"))
    else:
        try:
            value = json_text(entry.value.decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(
                f"the value of {json_text(key)} is binary (not UTF-8 text); "
                "pass --base64 to print values base64-encoded"
            ) from None
    if not args.metadata:
        return value
    parts = [f'"value": {value}', f'"metadata": {entry.metadata or "null"}']
    if entry.expiration is not None:
        parts.append(f'"expiration": {entry.expiration}')
    return "{" + ", ".join(parts) + "}"


async def _read(service: KVService | None, names: list[str], args: argparse.Namespace, bar: Progress) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in names:  # duplicates collapse into one entry, as in the REST API's answer
        entry = None if service is None else await service.get(name.encode("utf-8"))
        found[name] = "null" if entry is None else _value_json(name, entry, args)
        bar.advance()
    return found


async def get(session: Session, args: argparse.Namespace) -> int:
    """Print the values of the keys a wrangler bulk-get file names, as one JSON object."""
    items = read_array(args.file, _KEY_ITEMS)
    target = await session.target(args)
    with progress(f"checking {args.file}", len(items)) as bar:
        names = _check_all(args.file, items, _key, "GET_BULK", bar)
        bar.step(f"reading {target.title}", len(names))
        # Everything is read before anything is printed, so a refused value leaves no half-printed object.
        found = await _read(await session.reader(target), names, args, bar)
    output = JsonObject()
    for name, value in found.items():
        output.add(name, value)
    output.close()
    return 0
