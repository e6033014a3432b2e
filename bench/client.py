"""A small HTTP/1.1 load client: a fixed number of requests, or a duration, over keep-alive connections.

    python -m bench.client URL [--connections 64] (--requests N | --duration S)

It prints one JSON ``LoadResult`` on stdout. wrk is the load generator of full runs, but it only
runs for a whole number of seconds, and never for a fixed count of requests; this client covers
"10,000 single puts" and the sub-second rounds of smoke runs. SIGINT ends a run early and still
prints the summary, as wrk does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from urllib.parse import urlsplit

__all__ = ["main", "run"]


class _Budget:
    """How many requests may still start, and until when."""

    def __init__(self, requests: int | None, duration: float | None) -> None:
        self.left = requests
        self.deadline = None if duration is None else time.perf_counter() + duration
        self.stopped = False

    def take(self) -> bool:
        if self.stopped or (self.deadline is not None and time.perf_counter() >= self.deadline):
            return False
        if self.left is not None:
            if self.left <= 0:
                return False
            self.left -= 1
        return True


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(host: str, port: int, request: bytes, budget: _Budget, latencies: list[float]) -> int:
    failed = 0
    writer = None
    while budget.take():
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            status = await _read_response(reader)
            if not 200 <= status < 400:
                failed += 1
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failed += 1
            if writer is not None:
                writer.close()
            writer = None
            continue
        latencies.append(time.perf_counter() - started)
    if writer is not None:
        writer.close()
    return failed


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(url: str, connections: int, requests: int | None, duration: float | None) -> dict[str, float]:
    """Send the requests and return a ``LoadResult`` as a dict."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    budget = _Budget(requests, duration)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, lambda: setattr(budget, "stopped", True))
    latencies: list[float] = []
    started = time.perf_counter()
    failures = await asyncio.gather(*(_connection(host, port, request, budget, latencies) for _ in range(connections)))
    seconds = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "failed": sum(failures),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.client", description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=64)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--requests", type=int)
    group.add_argument("--duration", type=float)
    args = parser.parse_args(argv)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(run(args.url, args.connections, args.requests, args.duration))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
