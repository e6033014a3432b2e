"""A writer that goes through the ``workerhost kv`` CLI, for the concurrency test.

    python -m tests.reliability.cli_writer PERSIST_DIR NAMESPACE_ID TAG COUNT

Writes COUNT keys ``TAG-<n>`` with ``value_for(key)`` as ``writer_proc`` does, but by running the
CLI: mostly ``kv bulk put`` of 50 pairs (each also overwriting the hot key ``shared``), and every
tenth key alone with ``kv key put``. Prints ``ack <key>`` for each key once its command exited 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bindings.writer_proc import value_for

BATCH = 50


def _cli(persist: str, namespace_id: str, *args: str) -> None:
    command = [sys.executable, "-m", "runtime", "kv", *args, "--namespace-id", namespace_id, "--persist-to", persist]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main(persist: str, namespace_id: str, tag: str, count: int) -> None:
    keys = [f"{tag}-{n:06}" for n in range(count)]
    singles, bulk = keys[::10], [key for index, key in enumerate(keys) if index % 10]
    with tempfile.TemporaryDirectory() as scratch:
        for start in range(0, len(bulk), BATCH):
            batch = bulk[start : start + BATCH]
            pairs = [{"key": key, "value": value_for(key)} for key in batch] + [{"key": "shared", "value": batch[-1]}]
            path = Path(scratch) / f"{start}.json"
            path.write_text(json.dumps(pairs), encoding="utf-8")
            _cli(persist, namespace_id, "bulk", "put", str(path))
            print("\n".join(f"ack {key}" for key in batch), flush=True)
            if singles:
                key = singles.pop()
                _cli(persist, namespace_id, "key", "put", key, value_for(key))
                print(f"ack {key}", flush=True)
    for key in singles:
        _cli(persist, namespace_id, "key", "put", key, value_for(key))
        print(f"ack {key}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
