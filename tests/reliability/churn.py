"""Namespace churn for the crash campaign: namespaces written, deleted and created again while the host is killed.

One client owns a few namespaces ("slots", each with a title of its own) and works on them one request
at a time, so it always knows which namespace each write went to: it writes keys (REST ``PUT /values``
and ``PUT /bulk``; through the handler's binding ``C`` for the slot kv.yaml declares), deletes a slot's
namespace (REST ``DELETE``, or ``workerhost kv namespace delete`` in a process of its own), and creates
it again, with the same id (``workerhost kv namespace create --id``) or a new one (REST ``POST``). Every
value carries the number of the slot's namespace it was written to (``n3:...``).

After each restart, for each slot, from the files (``Store``):

- a namespace whose delete was acknowledged is gone (the kv.yaml slot: created again at start, empty);
- one that exists holds exactly its acknowledged keys (or the state of a write in flight at the kill);
- a delete in flight at the kill left the namespace whole, with all its keys, or gone with all of them;
- a create in flight left it absent, or present and empty;
- no key of an earlier, deleted namespace of the slot is ever there again ("resurrected"), and no
  deleted id comes back unless the slot created it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bindings.storage.sqlite.files import file_name
from runtime.config import DEFAULT_ACCOUNT_ID

ROOT = Path(__file__).resolve().parents[2]
DECLARED_ID = "c0ffee00c0ffee00c0ffee00c0ffee00"  # kv.yaml's slot, bound as C
NAMESPACES = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"
KEYS = 30  # per slot
Acked = dict[str, tuple[bytes, Any]]  # key -> value, metadata


@dataclass
class ChurnSlot:
    """A namespace the churner owns. ``number`` counts the namespaces the slot has had; values carry it."""

    title: str
    declared: bool = False  # in kv.yaml with DECLARED_ID: the host creates it at start if missing
    namespace_id: str | None = None  # None while deleted
    number: int = 0
    keys: dict[str, tuple[bytes, Any]] = field(default_factory=dict)  # acknowledged: value, metadata
    gone: set[str] = field(default_factory=set)  # ids deleted for good (the slot moved to a new id)


@dataclass
class ChurnOp:
    """One request of the churner, and what it does to its slot once acknowledged."""

    kind: str  # write, delete, create
    slot: ChurnSlot
    send: Callable[[httpx.AsyncClient], Any]
    writes: dict[str, tuple[bytes, Any]] = field(default_factory=dict)
    via: str = ""  # rest, handler, bulk, cli
    created_id: str | None = None  # for a create with a given id


class Store:
    """What is on disk: the catalog's rows and each namespace's keys, read straight from the files."""

    def __init__(self, persist: Path) -> None:
        self.kv = persist / "kv"
        catalog = self.kv / "catalog.sqlite3"
        with contextlib.closing(sqlite3.connect(f"{catalog.as_uri()}?mode=ro", uri=True, timeout=60)) as connection:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(namespaces)")}
            generation = "generation" if "generation" in columns else "1"  # a catalog from before generations
            rows = connection.execute(f"SELECT id, title, {generation} FROM namespaces").fetchall()
        self.files = {namespace_id: self.kv / file_name(namespace_id, number) for namespace_id, _, number in rows}
        self.by_title = {title: namespace_id for namespace_id, title, _ in rows}

    def keys(self, namespace_id: str) -> dict[str, tuple[Any, ...]]:
        path = self.files[namespace_id]
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=60)) as connection:
            rows = connection.execute("SELECT key, expiration, metadata, value FROM entries").fetchall()
        return {bytes(row[0]).decode("utf-8"): row for row in rows}


class Churner:
    """The client of the slots (see above)."""

    def __init__(self, rng: random.Random, project: Path, persist: Path) -> None:
        self.rng = rng
        self.project = project
        self.persist = persist
        self.slots = [ChurnSlot("crash-c", declared=True, namespace_id=DECLARED_ID, number=1)]
        self.slots += [ChurnSlot(f"churn-{n}") for n in range(2)]
        self.sequence = 0

    def next_op(self) -> ChurnOp:
        self.sequence += 1
        present = [slot for slot in self.slots if slot.namespace_id is not None]
        missing = [slot for slot in self.slots if slot.namespace_id is None]
        roll = self.rng.random()
        if missing and (roll < 0.25 or not present):
            return self._create(self.rng.choice(missing))
        if present and roll < 0.45:
            return self._delete(self.rng.choice(present))
        return self._write(self.rng.choice(present))

    # --- requests --------------------------------------------------------------------------------

    def _value(self, slot: ChurnSlot) -> bytes:
        return f"n{slot.number}:s{self.sequence}:".encode() + self.rng.randbytes(self.rng.randint(1, 300))

    def _write(self, slot: ChurnSlot) -> ChurnOp:
        assert slot.namespace_id is not None
        base = f"{NAMESPACES}/{slot.namespace_id}"
        roll = self.rng.random()
        if roll < 0.2:  # a bulk of text values (REST stores them as UTF-8)
            writes = {
                f"k{self.rng.randrange(KEYS):02}": (self._value(slot).decode("latin-1"), {"bulk": self.sequence})
                for _ in range(4)
            }
            body = [{"key": key, "value": value, "metadata": meta} for key, (value, meta) in writes.items()]
            acked = {key: (value.encode(), meta) for key, (value, meta) in writes.items()}
            return ChurnOp("write", slot, lambda c: c.put(f"{base}/bulk", json=body), acked, "bulk")
        key, value = f"k{self.rng.randrange(KEYS):02}", self._value(slot)
        if slot.declared and roll < 0.6:

            def through_handler(c: httpx.AsyncClient) -> Any:
                return c.post("/w/put", params={"ns": "C", "key": key}, content=value)

            return ChurnOp("write", slot, through_handler, {key: (value, None)}, "handler")
        put = f"{base}/values/{quote(key)}"
        return ChurnOp("write", slot, lambda c: c.put(put, content=value), {key: (value, None)}, "rest")

    def _delete(self, slot: ChurnSlot) -> ChurnOp:
        namespace_id = slot.namespace_id
        assert namespace_id is not None
        if self.rng.random() < 0.3:
            return ChurnOp("delete", slot, lambda c: self._cli("namespace", "delete", namespace_id, "-y"), via="cli")
        return ChurnOp("delete", slot, lambda c: c.delete(f"{NAMESPACES}/{namespace_id}"), via="rest")

    def _create(self, slot: ChurnSlot) -> ChurnOp:
        if slot.declared or (slot.gone and self.rng.random() < 0.6):
            namespace_id = DECLARED_ID if slot.declared else self.rng.choice(sorted(slot.gone))
            op = ChurnOp("create", slot, lambda c: self._cli("namespace", "create", slot.title, "--id", namespace_id))
            op.via, op.created_id = "cli", namespace_id
            return op
        return ChurnOp("create", slot, lambda c: c.post(NAMESPACES, json={"title": slot.title}), via="rest")

    async def _cli(self, *args: str) -> httpx.Response:
        # Another process, as a user at a terminal would run it: it needs no host, and dies with none.
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "runtime", "kv", *args, "--persist-to", str(self.persist),
            cwd=self.project, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        status = 200 if process.returncode == 0 else 500
        return httpx.Response(status, content=out + err)

    # --- acknowledgements ------------------------------------------------------------------------

    def acknowledged(self, op: ChurnOp, response: httpx.Response) -> None:
        slot = op.slot
        if op.kind == "write":
            slot.keys.update(op.writes)
        elif op.kind == "delete":
            assert slot.namespace_id is not None
            slot.gone.add(slot.namespace_id)
            slot.namespace_id, slot.keys = None, {}
        else:
            namespace_id = op.created_id or response.json()["result"]["id"]
            slot.gone.discard(namespace_id)
            slot.namespace_id, slot.number, slot.keys = namespace_id, slot.number + 1, {}

    # --- after a restart -------------------------------------------------------------------------

    def verify(self, in_flight: ChurnOp | None, lost: list[str], resurrected: list[str]) -> bool:
        """Check every slot against the files; returns whether the op in flight at the kill took effect."""
        store = Store(self.persist)
        applied = False
        for slot in self.slots:
            pending = in_flight if in_flight is not None and in_flight.slot is slot else None
            applied |= self._verify_slot(slot, pending, store, lost, resurrected)
        return applied

    def _verify_slot(
        self, slot: ChurnSlot, pending: ChurnOp | None, store: Store, lost: list[str], resurrected: list[str]
    ) -> bool:
        now = store.by_title.get(slot.title)  # the slot's namespace on disk, by its title
        for namespace_id in slot.gone - {now}:
            if namespace_id in store.files:
                resurrected.append(f"{slot.title}: deleted namespace {namespace_id} is back")
        stored = {} if now is None else store.keys(now)
        if slot.namespace_id is not None:
            if pending is not None and pending.kind == "delete":
                return self._after_delete(slot, now, stored, lost)
            if now != slot.namespace_id:
                lost.append(f"{slot.title}: namespace {slot.namespace_id} is gone (found {now})")
                return False
            current = f"n{slot.number}:".encode()
            old = {key for key, row in stored.items() if not bytes(row[3]).startswith(current)}
            resurrected += [f"{slot.title}/{key}: a key of a deleted namespace is back" for key in sorted(old)]
            writes = pending.writes if pending is not None else None
            return self._compare(slot, {key: row for key, row in stored.items() if key not in old}, writes, lost)
        # Deleted: gone, or created again (by the create in flight, or by the host's start for kv.yaml's slot).
        created = pending is not None and pending.kind == "create" and now is not None
        if now is None:
            if slot.declared:
                lost.append(f"{slot.title}: kv.yaml's namespace was not created at start")
            return False
        if not (created or slot.declared):
            resurrected.append(f"{slot.title}: namespace {now} appeared without a create")
        resurrected += [f"{slot.title}/{key}: a key of a deleted namespace is back" for key in sorted(stored)]
        self._created(slot, now)
        return created

    def _after_delete(
        self, slot: ChurnSlot, now: str | None, stored: dict[str, tuple[Any, ...]], lost: list[str]
    ) -> bool:
        """A delete was in flight: the namespace is whole, or gone with all its keys (kv.yaml's: back, empty)."""
        assert slot.namespace_id is not None
        if now == slot.namespace_id and _same(slot, stored):
            return False  # not deleted (or, for kv.yaml's slot without keys, deleted and back: the same)
        if now is None or (slot.declared and now == slot.namespace_id and not stored):
            slot.gone.add(slot.namespace_id)
            slot.namespace_id, slot.keys = None, {}
            if now is not None:
                self._created(slot, now)
            return True
        lost.append(f"{slot.title}: a delete in flight left {len(stored)} of its {len(slot.keys)} keys")
        return False

    @staticmethod
    def _created(slot: ChurnSlot, namespace_id: str) -> None:
        slot.gone.discard(namespace_id)
        slot.namespace_id, slot.number, slot.keys = namespace_id, slot.number + 1, {}

    @staticmethod
    def _compare(slot: ChurnSlot, stored: dict[str, tuple[Any, ...]], pending: Acked | None, lost: list[str]) -> bool:
        """Stored keys against the acknowledged ones (or a write in flight); returns whether that write landed."""
        landed = False
        for key in set(stored) | set(slot.keys) | set(pending or {}):
            found = _found(stored.get(key))
            if found == slot.keys.get(key):
                continue
            if pending is not None and key in pending and found == pending[key]:
                slot.keys[key] = pending[key]
                landed = True
                continue
            lost.append(f"{slot.title}/{key}: stored {found and found[0][:20]!r}, expected {slot.keys.get(key)}")
        return landed


def _found(row: tuple[Any, ...] | None) -> tuple[bytes, Any] | None:
    return None if row is None else (bytes(row[3]), None if row[2] is None else json.loads(row[2]))


def _same(slot: ChurnSlot, stored: dict[str, tuple[Any, ...]]) -> bool:
    return set(stored) == set(slot.keys) and all(_found(stored[key]) == slot.keys[key] for key in stored)
