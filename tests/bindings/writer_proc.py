"""A separate OS process that writes to a store, for durability and multi-process tests.

    python -m tests.bindings.writer_proc PERSIST_DIR NAMESPACE_ID TAG COUNT CONCURRENCY

Writes COUNT keys ``TAG-<n>`` (and a shared key ``shared`` on every write), CONCURRENCY at a time,
and prints ``ack <key>`` on stdout, flushed, only after each put has returned: a line on stdout is
an acknowledged write. Exits 0 when done; any exception is printed and exits 1. The store is SQLite
in PERSIST_DIR, or ``WORKERHOST_STORAGE`` when set (Redis, as the hosts under test use).
"""

from __future__ import annotations

import asyncio
import os
import sys

from bindings import KVNamespace, open_store


def value_for(key: str) -> str:
    return f"value of {key} " + "x" * (len(key) * 7 % 300)


async def main(persist: str, namespace_id: str, tag: str, count: int, concurrency: int) -> None:
    store = open_store(os.environ.get("WORKERHOST_STORAGE") or persist)
    kv = KVNamespace(await store.namespace(namespace_id))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            key = f"{tag}-{queue.get_nowait():06}"
            await kv.put(key, value_for(key), metadata={"tag": tag})
            await kv.put("shared", key)
            sys.stdout.write(f"ack {key}\n")
            sys.stdout.flush()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await store.close()


if __name__ == "__main__":
    persist, namespace_id, tag, count, concurrency = sys.argv[1:6]
    asyncio.run(main(persist, namespace_id, tag, int(count), int(concurrency)))
