"""Crash campaign: steady concurrent writes through a handler and the REST API, SIGKILL at random moments.

    python -m tests.reliability.crash --kills 20 --writes 100000

Each round starts ``python -m runtime dev`` on its own persist directory and lets ``--writers``
concurrent clients write: puts (with metadata and an absolute or TTL expiration, or none) and deletes
through a handler's binding, and ``PUT /values`` (raw or multipart), ``DELETE /values`` and
``PUT /bulk`` of several pairs through the REST API. Meanwhile one more client writes to namespaces of
its own and deletes and creates them again, with the same id or a new one (``churn.py``). After a
random time the host gets SIGKILL, mid-write; it is restarted and, before writing resumes, every key is
checked against what the clients were told:

- each key holds its last acknowledged state (value, metadata and expiration, exactly; a TTL's
  expiration within the seconds the request took), or the state of the one write to it that was in
  flight at the kill (unacknowledged writes may land or not, nothing else);
- a bulk write in flight at the kill landed whole or not at all (its pairs carry a marker of it);
- a namespace whose delete was acknowledged is gone with all its keys (created again, it is empty); one
  whose delete was in flight is whole or gone, never partly; no key of a deleted namespace ever comes
  back ("resurrected");
- ``PRAGMA integrity_check`` is ``ok`` for every namespace file and the catalog;
- no request outside a kill failed (no 5xx, no "database is locked").

Every writer owns its keys and sends one request at a time, so each key's writes are ordered and at
most one is in flight when the host dies. Expirations are days away: nothing expires during a run.
The campaign goes on until it has made ``--kills`` kills and counted ``--writes`` acknowledged key
writes (a bulk of five pairs counts five; requests are reported too). It prints one line per round
and a summary, and exits 1 if anything was lost, torn or corrupt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from runtime.config import DEFAULT_ACCOUNT_ID

from .churn import DECLARED_ID, Churner, ChurnOp, Store

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400
BINDINGS = ("A", "B")

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: crash-a
          - title: crash-b
          - title: crash-c
            id: DECLARED_ID
        workers:
          - name: writer
            script: writer.py
            routes: ["/w/*"]
            kv_namespaces:
              - {binding: A, namespace: crash-a}
              - {binding: B, namespace: crash-b}
              - {binding: C, namespace: crash-c}
    """.replace("DECLARED_ID", DECLARED_ID),
    "writer.py": """
        import json

        from runtime import Response


        async def fetch(request, env, ctx):
            query = request.query_params
            kv = env[query["ns"]]
            if request.url.path == "/w/delete":
                await kv.delete(query["key"])
                return Response("deleted")
            options = {}
            if "expiration" in query:
                options["expiration"] = int(query["expiration"])
            if "ttl" in query:
                options["expiration_ttl"] = int(query["ttl"])
            metadata = request.headers.get("x-metadata")
            if metadata is not None:
                options["metadata"] = json.loads(metadata)
            await kv.put(query["key"], await request.bytes(), **options)
            return Response("stored")
    """,
}


# --- what a key should hold -----------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A key's content after a write; ``value`` None means deleted."""

    value: bytes | None
    metadata: Any = None
    expiration: int | None = None  # exact, for an absolute expiration
    ttl_window: tuple[int, int] | None = None  # for a TTL: the range the server's "now + ttl" fell in

    def matches(self, row: tuple[Any, ...] | None) -> bool:
        """True if a stored row (key, expiration, metadata, value), or its absence, is this state."""
        if row is None or self.value is None:
            return row is None and self.value is None
        _, expiration, metadata, value = row
        if bytes(value) != self.value or (None if metadata is None else json.loads(metadata)) != self.metadata:
            return False
        if self.ttl_window is not None:
            return expiration is not None and self.ttl_window[0] <= expiration <= self.ttl_window[1]
        return bool(expiration == self.expiration)


ABSENT = State(None)
Slot = tuple[str, str]  # (binding, key)


@dataclass
class Op:
    """One request: what it sends and the state it leaves each key in if it lands."""

    kind: str  # handler-put, handler-delete, rest-put, rest-delete, bulk
    writes: dict[Slot, State]
    send: Callable[[httpx.AsyncClient], Any]
    ttl: int | None = None  # the states' expiration windows are fixed by ``settle``
    sent: float = 0.0

    def settle(self, answered: float) -> None:
        """Fix a TTL write's states: the server added the TTL to a "now" between sending and ``answered``."""
        if self.ttl is not None:
            window = (int(self.sent) + self.ttl, int(answered) + self.ttl + 1)
            self.writes = {slot: State(s.value, s.metadata, None, window) for slot, s in self.writes.items()}


# --- the host -------------------------------------------------------------------------------------


class Host:
    """``python -m runtime dev`` in a subprocess, killed and restarted on one persist directory."""

    def __init__(self, workdir: Path) -> None:
        self.project = workdir / "project"
        self.persist = workdir / "data"
        self.log = workdir / "host.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        for name, text in PROJECT.items():
            path = self.project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def start(self) -> dict[str, str]:
        """Start the host and wait until it answers; returns the namespace id of each binding."""
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "runtime", "dev", "--config", str(self.project / "kv.yaml")]
        command += ["--port", str(port), "--persist-to", str(self.persist), "--no-reload"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=self.project)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the host exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(f"{self.url}/__workerhost/status", timeout=5).json()
                bindings = status["workers"][0]["bindings"]
                return {b["name"]: b["namespace_id"] for b in bindings if b["name"] in BINDINGS}
            time.sleep(0.05)
        raise RuntimeError(f"the host did not answer within 60 s; see {self.log}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the writers ----------------------------------------------------------------------------------


class Writer:
    """One client: its own keys, one request at a time, each acknowledged write recorded."""

    def __init__(self, number: int, keys: int, rng: random.Random, base: dict[str, str]) -> None:
        self.number = number
        self.rng = rng
        self.base = base  # binding -> REST path of its namespace
        names = [f"w{number:02}/k{n:03}" + ("/é ü" if n % 7 == 0 else "") for n in range(keys)]
        self.slots: list[Slot] = [(BINDINGS[n % 2], name) for n, name in enumerate(names)]
        self.sequence = 0

    def _value(self) -> bytes:
        # Mostly small; some spill into overflow pages; a few are read off the event loop (over 64 KiB).
        roll = self.rng.random()
        if roll < 0.02:
            size = self.rng.randint(70_000, 150_000)
        elif roll < 0.12:
            size = self.rng.randint(1_000, 8_000)
        else:
            size = self.rng.randint(1, 200)
        return f"w{self.number}:{self.sequence}:".encode() + self.rng.randbytes(size)

    def _options(self) -> tuple[dict[str, str], Any, int | None, int | None]:
        """Query options, metadata, absolute expiration, TTL for one write."""
        metadata = None
        if self.rng.random() < 0.6:
            metadata = {"w": self.number, "s": self.sequence, "tag": "ü" * self.rng.randint(0, 3)}
        roll = self.rng.random()
        if roll < 0.3:
            expiration = int(time.time()) + 30 * DAY + self.rng.randint(0, DAY)
            return {"expiration": str(expiration)}, metadata, expiration, None
        if roll < 0.6:
            ttl = 30 * DAY + self.rng.randint(0, DAY)
            return {"ttl": str(ttl)}, metadata, None, ttl
        return {}, metadata, None, None

    def next_op(self) -> Op:
        self.sequence += 1
        roll = self.rng.random()
        if roll < 0.30:
            return self._handler_put()
        if roll < 0.40:
            return self._delete(handler=True)
        if roll < 0.65:
            return self._rest_put()
        if roll < 0.75:
            return self._delete(handler=False)
        return self._bulk()

    def _handler_put(self) -> Op:
        binding, key = slot = self.rng.choice(self.slots)
        value = self._value()
        query, metadata, expiration, ttl = self._options()
        headers = {} if metadata is None else {"x-metadata": json.dumps(metadata)}
        params = {"ns": binding, "key": key, **query}

        def send(client: httpx.AsyncClient) -> Any:
            return client.post("/w/put", params=params, content=value, headers=headers)

        return Op("handler-put", {slot: State(value, metadata, expiration)}, send, ttl)

    def _rest_put(self) -> Op:
        binding, key = slot = self.rng.choice(self.slots)
        value = self._value()
        query, metadata, expiration, ttl = self._options()
        params = {"expiration_ttl" if name == "ttl" else name: text for name, text in query.items()}
        url = f"{self.base[binding]}/values/{quote(key, safe='')}"

        def send(client: httpx.AsyncClient) -> Any:
            if metadata is None:
                return client.put(url, params=params, content=value)
            files = {"value": ("v", value, "application/octet-stream"), "metadata": (None, json.dumps(metadata))}
            return client.put(url, params=params, files=files)

        return Op("rest-put", {slot: State(value, metadata, expiration)}, send, ttl)

    def _delete(self, handler: bool) -> Op:
        binding, key = slot = self.rng.choice(self.slots)
        if handler:
            return Op(
                "handler-delete", {slot: ABSENT}, lambda c: c.post("/w/delete", params={"ns": binding, "key": key})
            )
        url = f"{self.base[binding]}/values/{quote(key, safe='')}"
        return Op("rest-delete", {slot: ABSENT}, lambda c: c.delete(url))

    def _bulk(self) -> Op:
        binding = self.rng.choice(BINDINGS)
        slots = self.rng.sample([slot for slot in self.slots if slot[0] == binding], self.rng.randint(2, 8))
        marker = f"bulk-{self.number}-{self.sequence}"
        query, _, expiration, ttl = self._options()
        pairs, writes = [], {}
        for index, (_, key) in enumerate(slots):
            text = f"{marker}:{index}:" + "x" * self.rng.randint(0, 300)
            metadata = {"bulk": marker, "i": index}
            pair: dict[str, Any] = {"key": key, "value": text, "metadata": metadata}
            if expiration is not None:
                pair["expiration"] = expiration
            if ttl is not None:
                pair["expiration_ttl"] = ttl
            pairs.append(pair)
            writes[(binding, key)] = State(text.encode(), metadata, expiration)
        url = f"{self.base[binding]}/bulk"
        return Op("bulk", writes, lambda c: c.put(url, json=pairs), ttl)


# --- one campaign ---------------------------------------------------------------------------------


@dataclass
class Campaign:
    """Figures of a campaign; ``lost``, ``torn``, ``failures`` and bad ``integrity`` must all be zero."""

    kills: int = 0
    acknowledged_writes: int = 0  # key writes: a bulk of n pairs counts n
    requests: Counter[str] = field(default_factory=Counter)  # acknowledged requests by kind
    in_flight_at_kills: int = 0
    in_flight_applied: int = 0
    keys_verified: int = 0
    integrity_checks: int = 0
    namespace_ops: Counter[str] = field(default_factory=Counter)  # acknowledged deletes and creates, by how
    lost: list[str] = field(default_factory=list)
    resurrected: list[str] = field(default_factory=list)  # keys (or namespaces) of deleted namespaces, back
    torn: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # requests refused while the host was up
    integrity: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.resurrected or self.torn or self.failures or self.integrity)

    def summary(self) -> str:
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(self.requests.items()))
        return "\n".join(
            [
                f"crash campaign: {self.kills} kills in {self.seconds:.0f} s",
                f"  acknowledged key writes: {self.acknowledged_writes:,} "
                f"({sum(self.requests.values()):,} requests: {kinds})",
                f"  in flight at a kill: {self.in_flight_at_kills} requests, {self.in_flight_applied} of them applied",
                f"  namespaces deleted and created again: {_counts(self.namespace_ops)}",
                f"  keys verified after restarts: {self.keys_verified:,}; integrity checks: {self.integrity_checks} ok "
                f"of {self.integrity_checks + len(self.integrity)}",
                f"  lost or wrong: {len(self.lost)}; resurrected: {len(self.resurrected)}; "
                f"bulk writes torn: {len(self.torn)}; requests failed while up: {len(self.failures)}",
            ]
        )


class Round:
    """The writers and the churner of one round, until the host is killed."""

    def __init__(
        self, writers: list[Writer], churner: Churner | None, url: str, acked: dict[Slot, State], campaign: Campaign
    ) -> None:
        self.writers = writers
        self.churner = churner
        self.url = url
        self.acked = acked
        self.campaign = campaign
        self.killing = False
        self.in_flight: dict[int, Op] = {}
        self.churning: ChurnOp | None = None  # the churner's request in flight

    async def run(self, seconds: float, kill: Callable[[], None]) -> None:
        clients = len(self.writers) + 1
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=self.url, limits=limits, timeout=60) as client:
            tasks = [asyncio.create_task(self._write(writer, client)) for writer in self.writers]
            if self.churner is not None:  # the Redis campaign kills Redis, not the host: no namespace churn
                tasks.append(asyncio.create_task(self._churn(client)))
            await asyncio.sleep(seconds)
            self.killing = True
            kill()
            await asyncio.gather(*tasks)

    async def _write(self, writer: Writer, client: httpx.AsyncClient) -> None:
        while not self.killing:
            op = writer.next_op()
            self.in_flight[writer.number] = op
            op.sent = time.time()
            try:
                response = await op.send(client)
            except httpx.TransportError as exc:
                if not self.killing:
                    self.campaign.failures.append(f"{op.kind}: {exc!r}")
                return
            if response.status_code != 200:
                if not self.killing:
                    self.campaign.failures.append(f"{op.kind}: {response.status_code} {response.text[:200]}")
                return
            op.settle(time.time())
            del self.in_flight[writer.number]
            self.acked.update(op.writes)
            self.campaign.requests[op.kind] += 1
            self.campaign.acknowledged_writes += len(op.writes)

    async def _churn(self, client: httpx.AsyncClient) -> None:
        assert self.churner is not None
        while not self.killing:
            op = self.churning = self.churner.next_op()
            try:
                response = await op.send(client)
            except httpx.TransportError as exc:
                if not self.killing:
                    self.campaign.failures.append(f"churn {op.kind}: {exc!r}")
                return
            if response.status_code != 200:
                if not self.killing:
                    self.campaign.failures.append(f"churn {op.kind} ({op.via}): {response.status_code} {response.text}")
                return
            self.churner.acknowledged(op, response)
            self.churning = None
            if op.kind == "write":
                self.campaign.requests[f"churn-{op.via}"] += 1
                self.campaign.acknowledged_writes += len(op.writes)
            else:
                self.campaign.namespace_ops[f"{op.kind} ({op.via})"] += 1


def read_store(persist: Path, namespace_ids: dict[str, str]) -> dict[Slot, tuple[Any, ...]]:
    """Every stored row by (binding, key), read straight from the files."""
    store = Store(persist)
    rows: dict[Slot, tuple[Any, ...]] = {}
    for binding, namespace_id in namespace_ids.items():
        rows.update({(binding, key): row for key, row in store.keys(namespace_id).items()})
    return rows


def check_integrity(persist: Path) -> list[str]:
    """The files whose ``PRAGMA integrity_check`` is not ``ok``, with what it says."""
    bad = []
    for path in sorted((persist / "kv").glob("*.sqlite3")):
        with contextlib.closing(sqlite3.connect(path, timeout=60)) as connection:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            bad.append(f"{path.name}: {result[:5]}")
    return bad


def verify(
    persist: Path, namespace_ids: dict[str, str], acked: dict[Slot, State], in_flight: list[Op], campaign: Campaign
) -> int:
    """Check the store against the acknowledged states after a restart; returns how many in-flight ops landed.

    The acknowledged states are then brought up to date with the in-flight writes that landed.
    """
    applied = check_rows(read_store(persist, namespace_ids), acked, in_flight, campaign)
    problems = check_integrity(persist)
    campaign.integrity += problems
    campaign.integrity_checks += len(list((persist / "kv").glob("*.sqlite3"))) - len(problems)
    return applied


def check_rows(
    rows: dict[Slot, tuple[Any, ...]], acked: dict[Slot, State], in_flight: list[Op], campaign: Campaign
) -> int:
    """The stored rows against the acknowledged states, for any engine; returns how many in-flight ops landed.

    A slot holds its last acknowledged state or that of a write in flight at the kill (which then
    becomes the acknowledged state); a bulk write in flight landed whole or not at all.
    """
    pending: dict[Slot, State] = {slot: state for op in in_flight for slot, state in op.writes.items()}
    for slot in set(rows) | set(acked) | set(pending):
        row = rows.get(slot)
        known = acked.get(slot, ABSENT)
        if known.matches(row):
            continue
        if slot in pending and pending[slot].matches(row):
            acked[slot] = pending[slot]
            continue
        campaign.lost.append(f"{slot}: stored {_describe(row)}, expected {_describe_state(known)}")
    applied = 0
    for op in in_flight:
        landed = [slot for slot, state in op.writes.items() if state.matches(rows.get(slot))]
        if op.kind == "bulk" and 0 < len(landed) < len(op.writes):
            campaign.torn.append(f"{len(landed)} of {len(op.writes)} pairs landed: {sorted(op.writes)}")
        applied += bool(landed)
    campaign.keys_verified += len(set(rows) | set(acked))
    return applied


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in sorted(counter.items())) or "none"


def _describe(row: tuple[Any, ...] | None) -> str:
    if row is None:
        return "nothing"
    return f"{len(row[3])} bytes {bytes(row[3])[:24]!r}, metadata {row[2]}, expiration {row[1]}"


def _describe_state(state: State) -> str:
    if state.value is None:
        return "nothing"
    return f"{len(state.value)} bytes {state.value[:24]!r}, metadata {state.metadata}, expiration {state.expiration}"


def run_campaign(
    kills: int,
    writes: int,
    *,
    writers: int = 16,
    keys_per_writer: int = 60,
    seed: int | None = None,
    workdir: Path | None = None,
    round_seconds: tuple[float, float] = (0.3, 8.0),
    report: Callable[[str], None] = print,
) -> Campaign:
    """Run rounds of writes and kills until ``kills`` kills and ``writes`` acknowledged key writes.

    Args:
        round_seconds: the shortest and longest time writes run before a kill; within them each round's
            length is random, around what is left to write over the kills that are left.
    """
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workerhost-crash-")))
        report(f"crash campaign: seed {seed}, {writers} writers, work directory {workdir}")
        host = Host(workdir)
        started = time.monotonic()
        prefix = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"
        base = {binding: f"{prefix}/{namespace_id}" for binding, namespace_id in host.start().items()}
        clients = [Writer(n, keys_per_writer, random.Random(rng.random()), base) for n in range(writers)]
        churner = Churner(random.Random(rng.random()), host.project, host.persist)
        campaign = Campaign()
        _rounds(host, clients, churner, campaign, (kills, writes), rng, round_seconds, report)
        host.stop()
        campaign.seconds = time.monotonic() - started
        log = host.log.read_text(encoding="utf-8", errors="replace").splitlines()
        campaign.failures += [line for line in log if "database is locked" in line or "[error]" in line]
        return campaign
    raise AssertionError("unreachable")


def _rounds(
    host: Host,
    writers: list[Writer],
    churner: Churner,
    campaign: Campaign,
    goal: tuple[int, int],
    rng: random.Random,
    round_seconds: tuple[float, float],
    report: Callable[[str], None],
) -> None:
    kills, writes = goal
    acked: dict[Slot, State] = {}
    rate = 500.0  # acknowledged key writes per second, measured again each round
    while campaign.kills < kills or campaign.acknowledged_writes < writes:
        mean = max(writes - campaign.acknowledged_writes, 0) / rate / max(kills - campaign.kills, 1)
        seconds = rng.uniform(round_seconds[0], max(round_seconds[0], min(round_seconds[1], 2 * mean)))
        before, began = campaign.acknowledged_writes, time.monotonic()
        current = Round(writers, churner, host.url, acked, campaign)
        asyncio.run(current.run(seconds, host.kill))
        rate = max((campaign.acknowledged_writes - before) / max(time.monotonic() - began, 0.1), 50.0)
        campaign.kills += 1
        restarted = time.monotonic()
        namespace_ids = host.start()
        restart = time.monotonic() - restarted
        in_flight = list(current.in_flight.values())
        for op in in_flight:
            op.settle(time.time())  # had it landed, it was before the kill
        applied = verify(host.persist, namespace_ids, acked, in_flight, campaign)
        applied += churner.verify(current.churning, campaign.lost, campaign.resurrected)
        campaign.in_flight_at_kills += len(in_flight) + (current.churning is not None)
        campaign.in_flight_applied += applied
        report(
            f"kill {campaign.kills} after {seconds:.2f} s: {campaign.acknowledged_writes - before:,} acknowledged "
            f"writes this round ({campaign.acknowledged_writes:,} in all); in flight {len(in_flight)}, applied "
            f"{applied}; restarted in {restart:.2f} s; lost {len(campaign.lost)}, "
            f"resurrected {len(campaign.resurrected)}, torn {len(campaign.torn)}, "
            f"failed {len(campaign.failures)}, integrity {'ok' if not campaign.integrity else 'BAD'}"
        )
        if not campaign.ok:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to make (default 20)")
    parser.add_argument("--writes", type=int, default=100_000, help="acknowledged key writes to reach (default 100000)")
    parser.add_argument("--writers", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seed", type=int, help="random seed, to replay a campaign")
    parser.add_argument("--dir", type=Path, help="work directory to keep (default: a temporary one)")
    args = parser.parse_args(argv)
    campaign = run_campaign(args.kills, args.writes, writers=args.writers, seed=args.seed, workdir=args.dir)
    print(campaign.summary())
    for problem in (campaign.lost + campaign.resurrected + campaign.torn + campaign.failures + campaign.integrity)[:20]:
        print(f"  PROBLEM: {problem}")
    return 0 if campaign.ok else 1


if __name__ == "__main__":
    sys.exit(main())
