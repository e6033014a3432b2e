"""Redis crash campaign: steady concurrent writes through a host on Redis, and kill -9 of redis-server.

    python -m tests.reliability.redis_crash --kills 10 --writes 50000

One ``workerhost dev`` runs for the whole campaign on a ``redis-server`` with ``appendonly yes`` and
``appendfsync always`` (the durable settings, README "Storage"). The writers of the SQLite campaign
(``crash.py``: handler puts and deletes, REST puts, deletes and bulk writes, with metadata and
expirations) write through it; at a random moment redis-server gets SIGKILL, mid-write. Requests
then fail with 503 (REST) or a handler error, and the host stays up. redis-server restarts on its
append-only file, and once the host answers again (by itself: nothing restarts it) every key is
checked against what the clients were told:

- each key holds its last acknowledged state, or the state of the one write to it that was in flight
  at the kill (``crash.State``); a bulk write in flight landed whole or not at all;
- every namespace is consistent: each key in the index has its entry and each entry is in the index,
  with its expiration in the expiry set (a key is never listed without its value, nor the reverse);
- the host never restarted, and no request failed while Redis was up.

It prints one line per round and a summary, and exits 1 if anything was lost, torn, inconsistent or failed.
``--redis-setting appendonly=no`` runs Redis otherwise (the host then starts without ``--require-durable``),
to see what a setting loses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from bindings import NamespaceNotFoundError
from bindings.storage.redis import RedisStore
from bindings.storage.redis.keys import NamespaceKeys
from runtime.config import DEFAULT_ACCOUNT_ID
from tests.redis_support import RedisServer

from .crash import PROJECT, Campaign, Round, Slot, State, Writer, check_rows

ROOT = Path(__file__).resolve().parents[2]
RECOVERY_TIMEOUT = 60.0


class Host:
    """``python -m runtime dev`` on Redis, started once and never restarted."""

    def __init__(self, workdir: Path, location: str, require_durable: bool = True) -> None:
        self.project = workdir / "project"
        self.require_durable = require_durable
        self.log = workdir / "host.log"
        self.location = location
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        for name, text in PROJECT.items():
            path = self.project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def start(self) -> dict[str, str]:
        """Start the host; returns the namespace id of each binding."""
        with contextlib.closing(__import__("socket").socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "runtime", "dev", "--config", str(self.project / "kv.yaml")]
        command += ["--port", str(port), "--no-reload", *(["--require-durable"] if self.require_durable else [])]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "WORKERHOST_STORAGE": self.location}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=self.project)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the host exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(f"{self.url}/__workerhost/status", timeout=5).json()
                return {b["name"]: b["namespace_id"] for b in status["workers"][0]["bindings"]}
            time.sleep(0.05)
        raise RuntimeError(f"the host did not answer within 60 s; see {self.log}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_storage(self, path: str) -> float:
        """Poll a KV read until the store answers it again (a 200, or a 404 if the namespace was lost)."""
        started = time.monotonic()
        while time.monotonic() - started < RECOVERY_TIMEOUT:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}{path}", timeout=10).status_code < 500:
                    return time.monotonic() - started
            time.sleep(0.02)
        raise RuntimeError(f"the host did not recover within {RECOVERY_TIMEOUT:.0f} s; see {self.log}")

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)


# --- reading back -----------------------------------------------------------------------------------


async def _read(location: str, namespace_ids: dict[str, str]) -> tuple[dict[Slot, tuple[Any, ...]], list[str]]:
    store = RedisStore(location)
    rows: dict[Slot, tuple[Any, ...]] = {}
    problems: list[str] = []
    try:
        for binding, namespace_id in namespace_ids.items():
            try:
                storage = await store.namespace(namespace_id)
            except NamespaceNotFoundError:
                problems.append(f"{binding}: the namespace itself is gone")
                continue
            after = None
            while True:
                listed, more = await storage.list(b"", after, 1000, -math.inf)
                entries = await storage.get_many([row[0] for row in listed])
                for (key, _, _), entry in zip(listed, entries, strict=True):
                    if entry is None:
                        problems.append(f"{binding}: {key!r} is listed without a value")
                        continue
                    rows[(binding, key.decode("utf-8"))] = (key, entry.expiration, entry.metadata, entry.value)
                if not more:
                    break
                after = listed[-1][0]
            problems += await _consistency(store, binding, namespace_id, storage.generation)
    finally:
        await store.close()
    return rows, problems


async def _consistency(store: RedisStore, binding: str, namespace_id: str, generation: int) -> list[str]:
    """Index, entries and expiry set agree: what a script that stopped halfway would break."""
    settings = store.settings
    keys = NamespaceKeys.of(settings.prefix, namespace_id).generation(generation)
    client = Redis(host=settings.host, port=settings.port)
    try:
        indexed = set(await client.zrange(keys.index, 0, -1))
        expiring = {member: int(score) for member, score in await client.zrange(keys.expiry, 0, -1, withscores=True)}
        entries = {}
        async for name in client.scan_iter(match=keys.entry_prefix + b"*", count=1000):
            entries[name[len(keys.entry_prefix) :]] = await client.hmget(name, "s", "x")
    finally:
        await client.aclose()
    problems = [f"{binding}: {key!r} is indexed without an entry" for key in indexed - set(entries)]
    problems += [f"{binding}: {key!r} has an entry but is not indexed" for key in set(entries) - indexed]
    for key, (size, expiration) in entries.items():
        if size is None:
            problems.append(f"{binding}: {key!r} has an entry without its size")
        if (None if expiration is None else int(expiration)) != expiring.get(key):
            problems.append(f"{binding}: {key!r} expires at {expiration!r} but the expiry set says {expiring.get(key)}")
    return problems


# --- one campaign -------------------------------------------------------------------------------------


def run_campaign(
    kills: int,
    writes: int,
    *,
    writers: int = 16,
    keys_per_writer: int = 60,
    seed: int | None = None,
    workdir: Path | None = None,
    round_seconds: tuple[float, float] = (0.3, 8.0),
    redis_settings: dict[str, str] | None = None,
    report: Callable[[str], None] = print,
) -> Campaign:
    """Run rounds of writes and kills of redis-server until ``kills`` kills and ``writes`` acknowledged writes.

    Args:
        redis_settings: redis-server settings over the durable ones (``redis_support.DURABLE``).
    """
    seed = random.randrange(2**32) if seed is None else seed
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workerhost-redis-crash-")))
        redis = RedisServer(workdir / "redis", redis_settings).start()
        stack.callback(redis.stop)
        location = redis.location("crash")
        report(f"redis crash campaign: seed {seed}, {writers} writers, redis-server on port {redis.port}, {workdir}")
        host = Host(workdir, location, require_durable=not redis_settings)
        started = time.monotonic()
        namespace_ids = host.start()
        pid = host.process.pid if host.process else 0
        prefix = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"
        base = {binding: f"{prefix}/{namespace_id}" for binding, namespace_id in namespace_ids.items()}
        clients = [Writer(n, keys_per_writer, random.Random(rng.random()), base) for n in range(writers)]
        campaign = Campaign()
        acked: dict[Slot, State] = {}
        rate = 300.0
        while campaign.kills < kills or campaign.acknowledged_writes < writes:
            mean = max(writes - campaign.acknowledged_writes, 0) / rate / max(kills - campaign.kills, 1)
            seconds = rng.uniform(round_seconds[0], max(round_seconds[0], min(round_seconds[1], 2 * mean)))
            before, began = campaign.acknowledged_writes, time.monotonic()
            current = Round(clients, None, host.url, acked, campaign)
            asyncio.run(current.run(seconds, redis.kill))
            rate = max((campaign.acknowledged_writes - before) / max(time.monotonic() - began, 0.1), 50.0)
            campaign.kills += 1
            redis.restart()
            recovery = host.wait_for_storage(f"{base['A']}/keys?limit=10")
            in_flight = list(current.in_flight.values())
            for op in in_flight:
                op.settle(time.time())  # had it landed, it was before the kill
            rows, problems = asyncio.run(_read(location, namespace_ids))
            campaign.integrity += problems
            campaign.integrity_checks += len(namespace_ids) - len({problem.split(":")[0] for problem in problems})
            applied = check_rows(rows, acked, in_flight, campaign)
            campaign.in_flight_at_kills += len(in_flight)
            campaign.in_flight_applied += applied
            if not host.alive() or (host.process is not None and host.process.pid != pid):
                campaign.failures.append("the host did not stay up")
            report(
                f"kill {campaign.kills} after {seconds:.2f} s: {campaign.acknowledged_writes - before:,} acknowledged "
                f"writes this round ({campaign.acknowledged_writes:,} in all); in flight {len(in_flight)}, applied "
                f"{applied}; host answered again {recovery:.2f} s after redis-server restarted; lost "
                f"{len(campaign.lost)}, torn {len(campaign.torn)}, failed {len(campaign.failures)}, consistent "
                f"{'yes' if not campaign.integrity else 'NO'}"
            )
            if not campaign.ok:
                break
        host.stop()
        campaign.seconds = time.monotonic() - started
        return campaign
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.redis_crash", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of redis-server to make (default 10)")
    parser.add_argument("--writes", type=int, default=50_000, help="acknowledged key writes to reach (default 50000)")
    parser.add_argument("--writers", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--seed", type=int, help="random seed, to replay a campaign")
    parser.add_argument("--dir", type=Path, help="work directory to keep (default: a temporary one)")
    parser.add_argument(
        "--redis-setting", action="append", default=[], metavar="NAME=VALUE",
        help="run redis-server with this setting (e.g. appendonly=no), to see what it loses",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = dict(setting.split("=", 1) for setting in args.redis_setting)
    campaign = run_campaign(
        args.kills, args.writes, writers=args.writers, seed=args.seed, workdir=args.dir, redis_settings=settings
    )
    print("redis " + campaign.summary().replace("integrity checks", "consistency checks"))
    for problem in (campaign.lost + campaign.torn + campaign.failures + campaign.integrity)[:20]:
        print(f"  PROBLEM: {problem}")
    return 0 if campaign.ok else 1


if __name__ == "__main__":
    sys.exit(main())
