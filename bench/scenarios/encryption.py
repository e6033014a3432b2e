"""Row ``encryption``: the same host with encryption at rest on and off, in the same run: get, put and list.

Two ``workerhost dev`` serve the bench handler on SQLite files, one with a key (``WORKERHOST_KV_KEY_FILE``),
so its values and metadata are sealed with AES-256-GCM before they are stored. Both are seeded the same
way; the ``/read`` (one hot key), ``/write-new`` (a new value under one of 1,000 keys) and ``/list``
(a 1000-key page, each key with metadata) routes run under the same load, interleaved. The target is
the issue's: at most 10% fewer requests per second with encryption on, on get and put; list is reported.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx

from ..load import Target, interleaved
from ..peers import workerhost
from ..procs import Server
from ..report import Check, Row, ratio
from . import Context, load_lines

__all__ = ["KEYS", "run"]

KEYS = ("encryption",)
# A put writes a new value each time: /write's constant value is one SQLite skips writing back to
# the page when the row is unchanged, which a sealed value (a fresh nonce each time) never is.
OPERATIONS = {"get": "/read", "put": "/write-new", "list": "/list"}
TARGETED = ("get", "put")
BOUND = 0.9  # encrypted req/s / plain req/s


def _project(ctx: Context, name: str) -> Path:
    return workerhost.write_project(ctx.folder(f"encryption-{name}"))


def _seed(host: Server) -> None:
    with httpx.Client(timeout=120) as client:
        answer = client.get(host.ready_url.replace("/hello", "/seed"))
    if answer.status_code != 200:
        raise RuntimeError(f"seeding {host.name} failed: {answer.status_code} {answer.text[:200]}")


def run(ctx: Context, keys: set[str]) -> list[Row]:
    ctx.check_load_tool()
    row = Row(
        "encryption",
        "encryption at rest (AES-256-GCM) on vs off, same host and store: get, put, list",
        f"get and put: encrypted ≥ {BOUND}× unencrypted req/s (at most 10% fewer); list reported",
    )
    key_file = ctx.folder("encryption-key") / "kv.key"
    key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    hosts = {
        "off": workerhost.server("workerhost-plain", _project(ctx, "off"), ctx.port(), ctx.logs),
        "on": workerhost.server(
            "workerhost-encrypted",
            _project(ctx, "on"),
            ctx.port(),
            ctx.logs,
            env={"WORKERHOST_KV_KEY_FILE": str(key_file)},
        ),
    }
    with ctx.started(*hosts.values()):
        for host in hosts.values():
            _seed(host)
        for operation, path in OPERATIONS.items():
            targets = {name: Target(host.ready_url.replace("/hello", path), host) for name, host in hosts.items()}
            results = interleaved(targets, ctx.settings)
            figures = {}
            for setting, rounds in results.items():
                line, figures[setting] = load_lines(f"{operation}, encryption {setting}", rounds)
                row.lines.append(line)
                row.data[f"{operation}-{setting}"] = [result.to_json() for result in rounds]
            share = ratio(figures["on"]["rps"], figures["off"]["rps"])
            if operation in TARGETED:
                row.checks.append(Check(f"{operation} req/s on/off", share, BOUND, True))
            elif share is not None:
                row.notes.append(f"{operation}: encrypted req/s is {share:.2f}× unencrypted")
    return [row]
