"""A separate OS process that holds a SQLite file's write lock, as a ``sqlite3`` shell inside a transaction does.

    python -m tests.bindings.storage.sqlite.lock_holder DATABASE EXCLUSIVE

Begins an immediate transaction on DATABASE (with EXCLUSIVE "True", in SQLite's exclusive locking mode:
no other connection may even read), prints ``locked`` (flushed) once it holds the lock, and rolls back
and exits when its stdin closes.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]


@contextmanager
def holding_write_lock(database: Path, *, exclusive: bool = False) -> Iterator[None]:
    """Hold ``database``'s write lock from another process for the duration of the block.

    ``exclusive``: take the whole file (``PRAGMA locking_mode = EXCLUSIVE``), so others cannot read it either.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bindings.storage.sqlite.lock_holder", str(database), str(exclusive)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline() == "locked\n"
        yield
    finally:
        process.stdin.close()
        process.wait(timeout=30)
        process.stdout.close()


def main(database: str, exclusive: bool) -> None:
    connection = sqlite3.connect(database, isolation_level=None, timeout=30)
    if exclusive:
        connection.execute("PRAGMA locking_mode = EXCLUSIVE")
        connection.execute("SELECT count(*) FROM sqlite_schema").fetchall()
    connection.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()
    connection.execute("ROLLBACK")
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] == "True")
