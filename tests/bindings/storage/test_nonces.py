"""The nonce pool behind every seal: 12 random bytes each, never handed out twice, across threads and forks."""

from __future__ import annotations

import os
import threading

from bindings.storage.encryption.nonces import NoncePool, fresh_nonce


def test_every_nonce_is_twelve_bytes_and_none_repeats_across_batches() -> None:
    pool = NoncePool(12, batch=7)  # many refills in a short run
    taken = [pool.take() for _ in range(1000)]
    assert {len(nonce) for nonce in taken} == {12}
    assert len(set(taken)) == len(taken)


def test_threads_taking_at_once_never_share_a_nonce() -> None:
    pool = NoncePool(12, batch=5)
    taken: list[list[bytes]] = [[] for _ in range(4)]

    def take(into: list[bytes]) -> None:
        for _ in range(2000):
            into.append(pool.take())

    threads = [threading.Thread(target=take, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [nonce for into in taken for nonce in into]
    assert len(set(every)) == len(every) == 8000


def test_a_forked_child_never_takes_what_its_parent_had_read() -> None:
    # The parent reads a batch, then forks: without the fork hook the child would hand out the same
    # rest of the batch as the parent, and AES-GCM with a repeated nonce under one key leaks plaintext.
    fresh_nonce()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(reader)
        os.write(writer, b"".join(fresh_nonce() for _ in range(50)))
        os._exit(0)
    os.close(writer)
    parent = [fresh_nonce() for _ in range(50)]
    data = b""
    while chunk := os.read(reader, 4096):
        data += chunk
    os.close(reader)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    from_child = [data[i : i + 12] for i in range(0, len(data), 12)]
    assert len(from_child) == 50
    assert not set(from_child) & set(parent)
