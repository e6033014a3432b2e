"""Helpers for the reliability tests: a project whose handler misbehaves on request, raw HTTP, and
looks at what is on disk (every stored row, integrity checks, the files around the persist directory).
"""

from __future__ import annotations

import select
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.config import DEFAULT_ACCOUNT_ID

SECRET = "hunter2-secret-7f3a9c"  # in .dev.vars
# A second secret that every escaping changes: a backslash (doubled by repr and JSON), a tab, a single
# quote (repr then picks double quotes), non-ASCII and an emoji (\x, \u escapes, UTF-8 bytes, surrogate
# pairs), and characters that URLs and HTML encode. In .dev.vars it is written double-quoted, with escapes.
TRICKY_SECRET = "C:\\new\\dir 'q'\tkéy<&>%/+😀 ok"
TRICKY_DEV_VAR = "TRICKY_KEY=\"C:\\\\new\\\\dir 'q'\\tkéy<&>%/+😀 ok\"\n"
WRITE_TOKEN = "write-token-5be0d1c8e2"
READ_TOKEN = "read-token-93ac77f01b"
API_ENV = {"WORKERHOST_API_TOKENS": WRITE_TOKEN, "WORKERHOST_API_READ_TOKENS": READ_TOKEN}
NAMESPACES = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"
MIB = 1024 * 1024

# A worker that does, on request, each thing a handler may do wrong, and a few plain KV operations.
PROBE_PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: data
        workers:
          - name: probe
            script: probe/worker.py
            routes: ["/probe/*"]
            kv_namespaces: [{binding: KV, namespace: data}]
            triggers: {crons: ["0 0 1 1 *"]}
    """,
    ".dev.vars": f"API_KEY={SECRET}\n{TRICKY_DEV_VAR}",
    "probe/worker.py": """
        import asyncio
        import html
        import json
        import re
        import sys
        import time
        from urllib.parse import quote, quote_plus

        from starlette.responses import StreamingResponse

        from runtime import Response
        from bindings import KVError


        async def fetch(request, env, ctx):
            action = request.url.path.removeprefix("/probe/")
            query = request.query_params
            if action == "put":
                metadata = request.headers.get("x-metadata")
                await env.KV.put(query["key"], await request.bytes(),
                                 metadata=None if metadata is None else json.loads(metadata))
                return Response("stored")
            if action == "put-json":  # the key and value come as JSON, so they may hold NUL or lone surrogates
                item = json.loads((await request.bytes()).decode("utf-8"))
                try:
                    await env.KV.put(item["key"], item["value"], metadata=item.get("metadata"))
                except KVError as exc:
                    return Response(str(exc), status=exc.status)
                return Response("stored")
            if action == "get":
                value = await env.KV.get(query["key"])
                return Response("missing", status=404) if value is None else Response(value)
            if action == "delete":
                await env.KV.delete(query["key"])
                return Response("deleted")
            if action == "text":
                return Response.json({"text": await request.text()})
            if action == "json":
                return Response.json({"json": await request.json()})
            if action == "json-types":
                return Response.json({name: type(value).__name__ for name, value in (await request.json()).items()})
            if action == "length":
                return Response(str(len(await request.bytes())))
            if action == "raise":
                raise RuntimeError("cannot use " + env.API_KEY)
            if action == "exit":
                sys.exit(3)
            if action == "interrupt":
                raise KeyboardInterrupt
            if action == "raise-later":
                ctx.wait_until(raise_later(env.API_KEY))
                return Response("queued")
            if action == "exit-later":
                ctx.wait_until(exit_later())
                return Response("queued")
            if action == "block":
                time.sleep(float(query["seconds"]))
                return Response("unblocked")
            if action == "slow":
                await asyncio.sleep(float(query["seconds"]))
                await env.KV.put(query["key"], "slow done")
                return Response("slow done")
            if action == "later":
                ctx.wait_until(later(env, float(query["seconds"]), query["key"]))
                return Response("queued")
            if action == "option":  # a numeric binding option from NUMBERS: what the binding makes of it
                return await use_option(env.KV, query["op"], query["name"], NUMBERS[query["number"]])
            if action == "leak":  # a hidden value in one of the forms a traceback may show it in
                token = request.headers.get("authorization", "").removeprefix("Bearer ")
                form = FORMS[query["form"]](token if query["what"] == "token" else env.TRICKY_KEY)
                if query.get("later"):
                    ctx.wait_until(raise_later(form))
                    return Response("queued")
                if query["form"].startswith("keyerror"):
                    raise KeyError("leaked: " + form)  # shown as its repr
                raise RuntimeError("leaked: " + form)
            if action == "return-secret":  # its repr is cut at 200 characters, in the middle of the secret
                return {"padding": "x" * 160, "value": env.TRICKY_KEY}
            if action in GARBAGE:
                return GARBAGE[action]()
            return Response("no such probe", status=404)


        async def use_option(kv, op, name, number):
            try:
                if op == "put":
                    await kv.put("option", "v", {name: number})
                elif op == "get":
                    await kv.get("option", {name: number})
                else:
                    await kv.list({name: number})
            except TypeError as exc:  # workerd's own checks (a KVTypeError is one)
                return Response(f"TypeError: {exc}", status=400)
            except KVError as exc:
                return Response(str(exc), status=exc.status)
            return Response("ok")


        NUMBERS = {
            "huge-int": 10**5000,
            "huge-text": "9" * 5000,
            "huge-hex": "0x" + "f" * 300,
            "huge-binary": "0b" + "1" * 2000,
            "arabic-sixty": "\u0666\u0660",
            "superscript-two": "\u00b2",
            "hex-with-underscore": "0x1_0",
            "infinity": float("inf"),
            "sixty": 60,
        }

        FORMS = {
            "raw": lambda value: value,
            "keyerror": lambda value: value,
            "keyerror-of-repr": repr,
            "repr": repr,
            "repr-both-quotes": lambda value: repr(value + '"'),
            "ascii": ascii,
            "bytes": lambda value: repr(value.encode()),
            "bytes-both-quotes": lambda value: repr((value + '"').encode()),
            "json": json.dumps,
            "json-utf8": lambda value: json.dumps(value, ensure_ascii=False),
            "json-upper-hex": lambda value: re.sub(r"\\\\u[0-9a-f]{4}", lambda m: m.group().upper().replace("U", "u"),
                                                   json.dumps(value)),
            "quote": quote,
            "quote-all": lambda value: quote(value, safe=""),
            "quote-plus": quote_plus,
            "quote-lower-hex": lambda value: re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe="")),
            "html": html.escape,
            "repr-of-json": lambda value: repr(json.dumps(value)),
            "json-of-repr": lambda value: json.dumps(repr(value)),
            "quote-of-json": lambda value: quote(json.dumps(value)),
            "quote-twice": lambda value: quote(quote(value, safe=""), safe=""),
            "html-of-repr": lambda value: html.escape(repr(value)),
        }


        async def raise_later(secret):
            raise RuntimeError("later: " + secret)


        async def exit_later():
            sys.exit(4)


        async def later(env, seconds, key):
            await asyncio.sleep(seconds)
            await env.KV.put(key, "later done")


        async def chunks_then_fail():
            yield b"first chunk"
            raise RuntimeError("the body broke halfway")


        async def fail_at_once():
            raise RuntimeError("the body broke at once")
            yield b""


        async def not_a_response():
            return "a coroutine"


        GARBAGE = {
            "none": lambda: None,
            "dict": lambda: {"not": "a response"},
            "number": lambda: 42,
            "coroutine": not_a_response,
            "status-99999": lambda: Response("odd", status=99999),
            "header-newline": lambda: Response("x", headers={"x-evil": "a\\r\\nset-cookie: pwned=1"}),
            "stream-fails-at-once": lambda: StreamingResponse(fail_at_once()),
            "stream-fails-midway": lambda: StreamingResponse(chunks_then_fail()),
        }


        async def scheduled(controller, env, ctx):
            await env.KV.put("cron", controller.cron)
    """,
}


# --- what is on disk ------------------------------------------------------------------------------


def namespace_files(persist_to: Path) -> list[Path]:
    """Every SQLite file of the store: the catalog and each namespace."""
    return sorted((persist_to / "kv").glob("*.sqlite3"))


def read_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every row of a store file (namespaces, or entries), read-only: another process may be writing it."""
    if path.name == "catalog.sqlite3":
        query = "SELECT id, title FROM namespaces ORDER BY id"
    else:
        query = "SELECT key, expiration, metadata, value FROM entries ORDER BY key"
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=60)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def snapshot(persist_to: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every namespace and every stored row, by file name: equal snapshots mean no data changed."""
    return {path.name: read_rows(path) for path in namespace_files(persist_to)}


def integrity(persist_to: Path) -> dict[str, str]:
    """``PRAGMA integrity_check`` of every file of the store, by file name (``ok`` when sound)."""
    results = {}
    for path in namespace_files(persist_to):
        connection = sqlite3.connect(path, timeout=60)
        try:
            rows = connection.execute("PRAGMA integrity_check").fetchall()
        finally:
            connection.close()
        results[path.name] = "; ".join(str(row[0]) for row in rows)
    return results


def assert_sound(persist_to: Path) -> None:
    """Every file of the store passes ``PRAGMA integrity_check``."""
    checks = integrity(persist_to)
    assert checks and set(checks.values()) == {"ok"}, checks


def file_tree(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``root``, by relative path, leaving out ``skip`` and its contents."""
    tree = {}
    for path in root.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file():
            stat = path.stat()
            tree[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return tree


# --- raw HTTP -------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _read_response(sock: socket.socket) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError(f"the server closed the connection after {data!r}")
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return RawResponse(int(lines[0].split(" ", 2)[1]), headers, body[:length])


def raw_request(port: int, request: bytes) -> RawResponse:
    """Send bytes exactly as given (no normalisation of the path, any headers) and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        return _read_response(sock)


def request_bytes(method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """An HTTP/1.1 request; ``target`` is sent byte for byte (``..`` and ``%2e`` stay as they are)."""
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if body and not any(name.lower() == "content-length" for name in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send_endless(port: int, method: str, target: str, headers: dict[str, str], cap: int) -> tuple[RawResponse, int]:
    """Stream a chunked body that never ends until the server answers; returns the answer and the bytes sent.

    Fails if ``cap`` bytes go out unanswered: the server must refuse such a body on its own.
    """
    chunk = b"x" * MIB
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request_bytes(method, target, {**headers, "Transfer-Encoding": "chunked"}))
        sent = 0
        while not select.select([sock], [], [], 0)[0]:
            assert sent < cap, f"the server read {sent} bytes without refusing the body"
            try:
                sock.sendall(frame)
            except OSError:
                break  # the server answered and closed its side
            sent += len(chunk)
        return _read_response(sock), sent
