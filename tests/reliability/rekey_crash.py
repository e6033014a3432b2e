"""The rekey crash campaign: ``workerhost kv rekey`` is killed with SIGKILL at random moments, over and over.

    python -m tests.reliability.rekey_crash --kills 50 [--engine sqlite|redis] [--keys 20000] [--seed N]

A store is filled (several namespaces; values with and without metadata, expirations, some past, big
values), then taken through two rekeys, each by a real ``workerhost kv rekey`` process: plain to key A,
then key A to key B. Each process is killed at a random moment, by turns: a few milliseconds after the
first rewritten entry shows up in the store; a few milliseconds after the store's record first shows
the rekey under way; at a random time after it starts (before, during or after its work). After
every kill, with the engine itself:

* every entry is there, and is plain, or sealed with the old key or the new one, as its stored form
  says (the key id it records), and opens to exactly what was written;
* while the record says a rekey is under way, a host with either key, or none, refuses the store.

Then the same command runs again, and is killed again, until one run finishes by itself; then every
entry must be in the new key's form and read back through a store opened with it. A kill is *midway*
when it left entries in both forms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bindings import open_store, sqlite_location
from bindings.errors import EncryptionError
from bindings.storage import Entry, Write
from bindings.storage.encryption import EncryptionKey, new_key_text, verify_store
from bindings.storage.encryption.envelope import Sealer, sealed_with
from bindings.storage.encryption.record import SETTING, parse_record
from bindings.storage.engines import open_engine

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_000_000
BIG = 200 * 1024
Expected = dict[str, dict[bytes, Entry]]  # namespace id -> key -> the entry as written


@dataclass
class Campaign:
    """What a campaign did and found."""

    engine: str
    kills: int = 0
    midway: int = 0  # kills that left entries in both forms
    under_way: int = 0  # kills after which the record said a rekey was under way
    runs: int = 0  # rekey processes started
    checks: int = 0  # entries checked after kills
    entries: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"{self.engine}: {self.kills} kills of workerhost kv rekey ({self.midway} midway, {self.under_way} with "
            f"the rekey under way) in {self.runs} runs over {self.seconds:.0f} s; {self.checks:,} entry checks of "
            f"{self.entries:,} entries; {len(self.problems)} problems"
        )


def _entries(keys: int, rng: random.Random) -> dict[str, dict[bytes, Entry]]:
    entries: dict[str, dict[bytes, Entry]] = {"alpha": {}, "beta": {}, "gamma": {}}
    titles = list(entries)
    for index in range(keys):
        title = titles[index % len(titles)]
        value = (f"value {index} " * rng.randint(1, 8)).encode()
        if index % 500 == 7:
            value = rng.randbytes(BIG)
        metadata = None if index % 3 else f'{{"index": {index}}}'
        expiration = None if index % 5 else (60 if index % 10 == 0 else NOW + index)
        entries[title][f"key {index:06d}".encode()] = Entry(value, len(value), expiration, metadata)
    return entries


async def _fill(location: str, entries: dict[str, dict[bytes, Entry]]) -> Expected:
    store = open_store(location)
    expected: Expected = {}
    try:
        for title, rows in entries.items():
            info = await store.create_namespace(title)
            storage = await store.namespace(info.id)
            writes = [Write(key, e.value, e.expiration, e.metadata) for key, e in rows.items()]
            for start in range(0, len(writes), 1000):
                await storage.put_many(writes[start : start + 1000])
            expected[info.id] = rows
        await store.create_namespace("empty")
    finally:
        await store.close()
    return expected


async def _rewriting(location: str, expected: Expected, new: EncryptionKey) -> bool:
    """Whether the first key of any namespace is in the new key's form yet."""
    engine = open_engine(location)
    try:
        for namespace_id, rows in expected.items():
            entry = await (await engine.namespace(namespace_id)).get(next(iter(rows)))
            if entry is not None and sealed_with(entry.metadata) == new.id_bytes:
                return True
        return False
    finally:
        await engine.close()


def _wait_for(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while process.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.002)


async def _under_way(location: str) -> bool:
    engine = open_engine(location)
    try:
        record = parse_record(await engine.read_setting(SETTING), location)
        return record is not None and record.rekey is not None
    finally:
        await engine.close()


async def _check(
    location: str, expected: Expected, old: EncryptionKey | None, new: EncryptionKey, campaign: Campaign
) -> set[str]:
    """Every entry opens with the key its stored form names, to what was written; returns the forms seen."""
    forms: set[str] = set()
    engine = open_engine(location)
    try:
        for namespace_id, rows in expected.items():
            storage = await engine.namespace(namespace_id)
            names = list(rows)
            for start in range(0, len(names), 1000):
                batch = names[start : start + 1000]
                for name, stored in zip(batch, await storage.get_many(batch), strict=True):
                    campaign.checks += 1
                    problem = _problem(namespace_id, name, stored, rows[name], old, new, forms)
                    if problem:
                        campaign.problems.append(problem)
    finally:
        await engine.close()
    return forms


def _problem(
    namespace_id: str,
    name: bytes,
    stored: Entry | None,
    want: Entry,
    old: EncryptionKey | None,
    new: EncryptionKey,
    forms: set[str],
) -> str | None:
    where = f"{namespace_id}/{name.decode()}"
    if stored is None:
        return f"{where}: missing"
    sealed = sealed_with(stored.metadata)
    if sealed is None:
        if old is not None:
            return f"{where}: plain in a store going from key {old.id} to {new.id}"
        forms.add("plain")
        value, metadata = bytes(stored.value), stored.metadata
    else:
        key = new if sealed == new.id_bytes else old if old is not None and sealed == old.id_bytes else None
        if key is None:
            return f"{where}: sealed with key {sealed.hex()}, neither the old nor the new one"
        forms.add(key.id)
        try:
            value, metadata = Sealer(key, namespace_id).open(name, stored.value, stored.metadata)
        except EncryptionError as exc:
            return f"{where}: does not open with key {key.id}: {exc}"
    if (value, metadata, stored.expiration) != (want.value, want.metadata, want.expiration):
        return f"{where}: opens to something else than was written"
    return None


async def _hosts_refuse(location: str, keys: list[EncryptionKey | None]) -> list[str]:
    problems = []
    for key in keys:
        store = open_store(location, key=key)
        try:
            await verify_store(store)
            problems.append(f"a store opened with {key!r} was not refused during the rekey")
        except EncryptionError as exc:
            if exc.reason != "rekeying":
                problems.append(f"a store opened with {key!r} was refused for another reason: {exc}")
        finally:
            await store.close()
    return problems


def _command(location: str, new_file: Path, old_file: Path | None) -> list[str]:
    command = [sys.executable, "-m", "runtime", "kv", "rekey", "--storage", location, "--kv-key-file", str(new_file)]
    return command if old_file is None else [*command, "--old-key-file", str(old_file)]


def _phase(
    location: str,
    workdir: Path,
    expected: Expected,
    old: tuple[Path, EncryptionKey] | None,
    new: tuple[Path, EncryptionKey],
    kills: int,
    rng: random.Random,
    campaign: Campaign,
    report: Callable[[str], None],
) -> None:
    old_key = None if old is None else old[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_")}
    env |= {"PYTHONPATH": str(ROOT)}
    command = _command(location, new[0], None if old is None else old[0])
    made = 0
    while True:
        campaign.runs += 1
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if made < kills:
            if made % 3 == 0:
                _wait_for(process, lambda: asyncio.run(_rewriting(location, expected, new[1])))
                time.sleep(rng.uniform(0.0, 0.04))
            elif made % 3 == 1:
                _wait_for(process, lambda: asyncio.run(_under_way(location)))
                time.sleep(rng.uniform(0.0, 0.05))
            else:
                time.sleep(rng.uniform(0.05, 1.0))
        if made < kills and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.communicate()  # waits, and closes its stderr pipe
            made += 1
            campaign.kills += 1
            forms = asyncio.run(_check(location, expected, old_key, new[1], campaign))
            under_way = asyncio.run(_under_way(location))
            if len(forms) > 1:
                campaign.midway += 1
            if under_way:
                campaign.under_way += 1
                campaign.problems += asyncio.run(_hosts_refuse(location, [None, old_key, new[1]]))
            report(f"  kill {campaign.kills}: forms {sorted(forms)}, rekey under way: {under_way}")
            if campaign.problems:
                return
            continue
        _, err = process.communicate(timeout=300)
        if process.returncode != 0:
            campaign.problems.append(f"rekey exited {process.returncode}: {err.decode(errors='replace')}")
            return
        forms = asyncio.run(_check(location, expected, old_key, new[1], campaign))
        if forms != {new[1].id} or asyncio.run(_under_way(location)):
            campaign.problems.append(f"after the rekey finished: forms {sorted(forms)}")
        report(f"  finished: {err.decode().strip()}")
        return


async def _read_back(location: str, key: EncryptionKey, expected: Expected) -> list[str]:
    store = open_store(location, key=key)
    problems = []
    try:
        for namespace_id, rows in expected.items():
            storage = await store.namespace(namespace_id)
            for name, want in rows.items():
                if await storage.get(name) != want:
                    problems.append(f"{namespace_id}/{name.decode()}: reads back as something else")
    finally:
        await store.close()
    return problems


def run_campaign(
    location: str,
    kills: int,
    keys: int,
    *,
    workdir: Path,
    seed: int | None = None,
    engine: str = "sqlite",
    report: Callable[[str], None] = print,
) -> Campaign:
    """Fill the store at ``location``, then take it plain to key A and A to key B, ``kills`` kills per rekey."""
    rng = random.Random(seed)
    campaign = Campaign(engine)
    started = time.monotonic()
    expected = asyncio.run(_fill(location, _entries(keys, rng)))
    campaign.entries = sum(len(rows) for rows in expected.values())
    files = []
    for name in ("a.key", "b.key"):
        (workdir / name).write_text(new_key_text())
        files.append((workdir / name, EncryptionKey.from_file(workdir / name)))
    for old, new in ((None, files[0]), (files[0], files[1])):
        report(f"rekey from {'plain' if old is None else 'key ' + old[1].id} to key {new[1].id}:")
        _phase(location, workdir, expected, old, new, kills, rng, campaign, report)
        if campaign.problems:
            break
    if campaign.ok:
        campaign.problems += asyncio.run(_read_back(location, files[1][1], expected))
    campaign.seconds = time.monotonic() - started
    return campaign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.rekey_crash", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per rekey (two rekeys; default 20)")
    parser.add_argument("--keys", type=int, default=20_000, help="entries in the store (default 20000)")
    parser.add_argument("--engine", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--seed", type=int, help="random seed, to replay a campaign")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wh-rekey-") as folder:
        workdir = Path(folder)
        if args.engine == "redis":
            from tests.redis_support import RedisServer

            server = RedisServer(workdir / "redis").start()
            try:
                campaign = run_campaign(
                    server.location(), args.kills, args.keys, workdir=workdir, seed=args.seed, engine="redis"
                )
            finally:
                server.stop()
        else:
            location = sqlite_location(workdir / "data")
            campaign = run_campaign(location, args.kills, args.keys, workdir=workdir, seed=args.seed)
    print(campaign.summary())
    for problem in campaign.problems[:20]:
        print(f"  PROBLEM: {problem}")
    return 0 if campaign.ok else 1



if __name__ == "__main__":
    sys.exit(main())
