"""A separate OS process that deletes and creates namespaces in a loop, to be killed at a random moment.

    python -m tests.bindings.namespace_churn_proc PERSIST_DIR RUN SEED

First deletes every namespace it finds, then loops over three ids: creates one (with the same id, as
kv.yaml's fixed ids are created again), writes a few keys into it in one ``put_many``, or deletes it.
Each namespace it creates gets a label ``<RUN>.<n>``, carried by every value written to it. Before each
step it prints ``try <step>``, and after it ``ok <step>``, flushed: an ``ok`` line is an acknowledged
step. Steps: ``create <id> <label>``, ``put <id> <label> <key>,<key>...``, ``delete <id>``.
"""

from __future__ import annotations

import asyncio
import random
import sys

from bindings import open_store
from bindings.storage.base import Write

IDS = ["a" * 32, "b" * 32, "c" * 32]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(persist: str, run: str, seed: int) -> None:
    rng = random.Random(seed)
    store = open_store(persist)
    for info in await store.list_namespaces():
        say(f"try delete {info.id}")
        await store.delete_namespace(info.id)
        say(f"ok delete {info.id}")
    labels: dict[str, str] = {}
    made = 0
    while True:
        namespace_id = rng.choice(IDS)
        label = labels.get(namespace_id)
        if label is None:
            made += 1
            label = f"{run}.{made}"
            say(f"try create {namespace_id} {label}")
            await store.create_namespace(label, namespace_id)
            labels[namespace_id] = label
            say(f"ok create {namespace_id} {label}")
        elif rng.random() < 0.6:
            keys = sorted({f"k{rng.randrange(20):02}" for _ in range(4)})
            step = f"put {namespace_id} {label} {','.join(keys)}"
            say(f"try {step}")
            storage = await store.namespace(namespace_id)
            await storage.put_many([Write(key.encode(), f"{label}:{key}".encode()) for key in keys])
            say(f"ok {step}")
        else:
            say(f"try delete {namespace_id}")
            await store.delete_namespace(namespace_id)
            del labels[namespace_id]
            say(f"ok delete {namespace_id}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
