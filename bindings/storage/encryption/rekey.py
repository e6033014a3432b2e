"""Rekey: seal every entry of a store with a new key, seal a plain store's entries, or open them all.

It works on the engine itself (``open_engine``), namespace by namespace, a page of keys at a time. The
entries of a page that are not in the new form yet are read, opened with the old key (or taken as
they are, from a plain store), sealed with the new one (or left plain) and written back in one
transaction, each only if it is still what was read (``ConditionalWrites.replace_many``): a write
another process made in between is never overwritten.

Crash-safe, by two records kept apart from the entries:

* every entry records which key sealed it (the key id in its sealed form; a plain entry has none), so
  at any moment every entry can be opened with the old key or the new one, and says which;
* the store's ``encryption`` setting records the rekey, from the moment before the first entry
  changes (``{key: old, rekey: {to: new, done: [...]}}``) until after the last, when it becomes the
  new key's record (or goes, for a plain store); each namespace finished is added to ``done``.

A rekey killed at any point is resumed by running it again with the same two keys: finished namespaces
are skipped, and entries already in the new form are passed over. Until it finishes every host and
CLI refuses the store (``KeyedStore``), as half of it is in each form. It needs the store to itself:
a host that was already running keeps writing in the old form; the rekey finds such entries in a last
pass over every namespace and refuses to finish while they keep coming, so nothing is lost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ...errors import EncryptionError, IntegrityError, NamespaceNotFoundError
from ..base import ConditionalWrites, Entry, NamespaceInfo, Store, Write
from .envelope import Sealer, sealed_with, shown
from .keys import EncryptionKey
from .record import SETTING, KeyCheck, Record, Rekey, parse_record
from .store import describe

__all__ = ["RekeyProgress", "RekeyResult", "rekey"]

PAGE = 1000  # keys listed at a time
BATCH_BYTES = 16 * 1024 * 1024  # entries rewritten in one transaction, at most (one bigger value goes alone)
_PASSES = 3  # last passes that may still find entries in the old form before the rekey gives up


class RekeyProgress(Protocol):
    """Told how a rekey goes, for a progress bar."""

    def started(self, namespaces: int, keys: int) -> None:
        """The rekey will go through ``keys`` keys in ``namespaces`` namespaces (those not done before)."""

    def namespace(self, info: NamespaceInfo, index: int, keys: int) -> None:
        """It starts on namespace number ``index`` (from 1), which has ``keys`` keys."""

    def advanced(self, keys: int) -> None:
        """It went through ``keys`` more keys (rewritten, or already in the new form)."""


@dataclass(frozen=True)
class RekeyResult:
    """What a rekey did: namespaces gone through, entries rewritten, entries found already done."""

    namespaces: int
    rewritten: int
    already: int
    resumed: bool
    nothing_to_do: bool = False


def _name(check: KeyCheck | None) -> str:
    return "plain (unencrypted)" if check is None else f"key {check.id}"


def _given(key: EncryptionKey | None) -> str:
    return "no key" if key is None else f"key {key.id} (from {key.source})"


def _fits(check: KeyCheck | None, key: EncryptionKey | None) -> bool:
    if check is None or key is None:
        return check is None and key is None
    return check.opens_with(key)


class _Rekey:
    def __init__(self, engine: Store, old: EncryptionKey | None, new: EncryptionKey | None) -> None:
        self.engine = engine
        self.old = old
        self.new = new
        self.where = describe(engine)
        self.rewritten = 0
        self.already = 0

    # --- the record ------------------------------------------------------------------------------

    async def plan(self) -> tuple[Record | None, str | None, bool]:
        """The record to work under (None: nothing to do), the setting's current text, and whether it resumes."""
        text = await self.engine.read_setting(SETTING)
        record = parse_record(text, self.where)
        current = None if record is None else record.key
        if record is not None and record.rekey is not None:
            target = record.rekey.to
            if not _fits(current, self.old) or not _fits(target, self.new):
                raise EncryptionError(
                    f"a rekey of the KV store at {self.where} from {_name(current)} to {_name(target)} is under way; "
                    f"to finish it, run it again with those keys (given: old {_given(self.old)}, new "
                    f"{_given(self.new)})",
                    "rekeying",
                )
            return record, text, True
        if _fits(current, self.new):
            return None, text, False  # already there, whatever old key was given
        if current is None and self.old is not None:
            raise EncryptionError(
                f"the KV store at {self.where} is not encrypted, but an old key was given ({_given(self.old)}); "
                "give none",
                "plain data",
            )
        if current is not None and not _fits(current, self.old):
            raise EncryptionError(
                f"the KV store at {self.where} is encrypted with key {current.id}, but the old key given is "
                f"{_given(self.old)}; give the key it is encrypted with",
                "wrong key",
            )
        if self.old is not None and self.new is not None and self.old.id == self.new.id:
            raise EncryptionError(
                f"the new key's id is the old key's ({self.new.id}), so entries could not tell them apart; "
                "make another new key",
                "wrong key",
            )
        target = None if self.new is None else KeyCheck.of(self.new)
        started = Record(current, Rekey(target))
        await self.swap(started, text)
        return started, started.text(), False

    async def swap(self, record: Record | None, expected: str | None) -> None:
        if not await self.engine.write_setting(SETTING, None if record is None else record.text(), expected=expected):
            raise EncryptionError(
                f"the encryption record of the KV store at {self.where} changed while the rekey ran (another "
                "rekey?); run it again once that one is done",
                "rekeying",
            )

    # --- the entries -----------------------------------------------------------------------------

    def _done(self, field: str | None, key: bytes, namespace_id: str) -> bool:
        """Whether an entry (by its stored metadata text) is in the new form already."""
        try:
            sealed = sealed_with(field)
        except IntegrityError:
            raise IntegrityError(
                f"key {shown(key)} of namespace {namespace_id} has malformed sealed metadata, so neither key can "
                "open it; nothing more was rewritten (delete the key, then run the rekey again)"
            ) from None
        return sealed is None if self.new is None else sealed == self.new.id_bytes

    async def count(self, infos: Sequence[NamespaceInfo]) -> dict[str, int]:
        counts = dict.fromkeys((info.id for info in infos), 0)
        for info in infos:
            try:
                storage = await self.engine.namespace(info.id)
                after: bytes | None = None
                while True:
                    rows, more = await storage.list(b"", after, PAGE, -math.inf)
                    counts[info.id] += len(rows)
                    if not more:
                        break
                    after = rows[-1][0]
            except NamespaceNotFoundError:
                continue
        return counts

    async def namespace(self, info: NamespaceInfo, progress: RekeyProgress | None) -> int:
        """Bring every entry of a namespace to the new form; returns how many it rewrote."""
        try:
            storage = await self.engine.namespace(info.id)
        except NamespaceNotFoundError:
            return 0  # deleted meanwhile
        if not isinstance(storage, ConditionalWrites):
            raise EncryptionError(f"the KV store at {self.where} cannot replace entries conditionally", "record")
        return await self._pages(info, storage, progress)

    async def _pages(self, info: NamespaceInfo, storage: ConditionalWrites, progress: RekeyProgress | None) -> int:
        opener = None if self.old is None else Sealer(self.old, info.id)
        sealer = None if self.new is None else Sealer(self.new, info.id)
        rewritten = 0
        after: bytes | None = None
        while True:
            try:
                rows, more = await storage.list(b"", after, PAGE, -math.inf)
            except NamespaceNotFoundError:
                return rewritten
            pending = [key for key, _, field in rows if not self._done(field, key, info.id)]
            self.already += len(rows) - len(pending)
            for batch in await self._batches(storage, pending):
                rewritten += await self._rewrite(storage, batch, opener, sealer, info.id)
            if progress is not None:
                progress.advanced(len(rows))
            if not more:
                return rewritten
            after = rows[-1][0]

    @staticmethod
    async def _batches(storage: ConditionalWrites, keys: list[bytes]) -> list[list[bytes]]:
        if not keys:
            return []
        heads = await storage.heads(keys)
        batches: list[list[bytes]] = [[]]
        size = 0
        for key, head in zip(keys, heads, strict=True):
            if head is None:
                continue  # deleted meanwhile
            if batches[-1] and size + head.size > BATCH_BYTES:
                batches.append([])
                size = 0
            batches[-1].append(key)
            size += head.size
        return [batch for batch in batches if batch]

    async def _rewrite(
        self,
        storage: ConditionalWrites,
        keys: list[bytes],
        opener: Sealer | None,
        sealer: Sealer | None,
        namespace_id: str,
    ) -> int:
        entries = await storage.get_many(keys)
        writes: list[Write] = []
        expected: list[Entry] = []
        for key, entry in zip(keys, entries, strict=True):
            if entry is None or self._done(entry.metadata, key, namespace_id):
                continue  # deleted, or rewritten by someone else meanwhile
            value, metadata = self._open(key, entry, opener, namespace_id)
            if sealer is None:
                writes.append(Write(key, value, entry.expiration, metadata))
            else:
                blob, field = sealer.seal(key, value, metadata)
                writes.append(Write(key, blob, entry.expiration, field))
            expected.append(entry)
        if not writes:
            return 0
        rewritten = await storage.replace_many(writes, expected)
        self.rewritten += rewritten
        return rewritten

    def _open(self, key: bytes, entry: Entry, opener: Sealer | None, namespace_id: str) -> tuple[bytes, str | None]:
        sealed = sealed_with(entry.metadata)
        if sealed is None:
            return bytes(entry.value), entry.metadata  # plain: stored as written (in an encrypted store too)
        if opener is None or sealed != opener.key.id_bytes:
            raise IntegrityError(
                f"key {shown(key)} of namespace {namespace_id} is encrypted with key {sealed.hex()}, which is "
                f"neither the old key ({_given(self.old)}) nor the new one; nothing more was rewritten",
                "wrong key",
            )
        return opener.open(key, entry.value, entry.metadata)


async def rekey(
    engine: Store, old: EncryptionKey | None, new: EncryptionKey | None, progress: RekeyProgress | None = None
) -> RekeyResult:
    """Bring every entry of the store from ``old`` (None: plain) to ``new`` (None: plain), crash-safe and resumable.

    Args:
        engine: the store's engine itself (``open_engine``), not a ``KeyedStore``.
        old: the key the store is encrypted with now, None if it is plain. For a rekey under way, the
            one it started from.
        new: the key to seal every entry with, None to store them plain.
        progress: told how it goes.

    Raises:
        EncryptionError: the keys do not fit the store (or the rekey under way); an entry sealed with
            neither key (``IntegrityError``); entries kept being written in the old form meanwhile.
    """
    job = _Rekey(engine, old, new)
    record, text, resumed = await job.plan()
    if record is None or record.rekey is None:
        return RekeyResult(0, 0, 0, resumed=False, nothing_to_do=True)
    target = record.rekey.to
    infos = sorted(await engine.list_namespaces(), key=lambda info: info.id)
    todo = [info for info in infos if info.id not in record.rekey.done]
    counts = await job.count(todo) if progress is not None else {}
    if progress is not None:
        progress.started(len(todo), sum(counts.values()))
    for index, info in enumerate(todo, start=1):
        if progress is not None:
            progress.namespace(info, index, counts.get(info.id, 0))
        await job.namespace(info, progress)
        done = record.with_done([info.id])
        await job.swap(done, text)
        record, text = done, done.text()
    already = job.already
    # The last passes: anything still in the old form was written meanwhile (a host left running).
    for _ in range(_PASSES):
        before = job.rewritten
        for info in sorted(await engine.list_namespaces(), key=lambda info: info.id):
            await job.namespace(info, None)
        if job.rewritten == before:
            break
    else:
        raise EncryptionError(
            f"entries of the KV store at {job.where} kept being written in the old form while the rekey ran: a host "
            "or CLI is still using the store. Stop every one of them, then run the rekey again to finish it "
            "(nothing was lost)",
            "rekeying",
        )
    await job.swap(None if target is None else Record(target), text)
    return RekeyResult(len(infos), job.rewritten, already, resumed)
