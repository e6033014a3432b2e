"""The scenarios: each module measures a group of rows that share servers, in the order of the issue's table.

A scenario is ``run(ctx, keys) -> list[Row]``: ``keys`` are the rows of its group that were asked for
(``--only``). Tools a row needs are looked up through the ``Context``; when one is missing the row
says "not available" and why, and the run goes on.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..load import LoadResult
from ..procs import Server, free_port
from ..report import Row, Series
from ..settings import Settings
from ..tools import NodeTools, ToolMissingError, ensure_node_tools, ensure_wrk, netns_prefix

__all__ = ["Context", "Scenario", "groups", "load_lines", "series"]


@dataclass
class Context:
    """What every scenario shares: the settings, scratch folders, and the tools found so far."""

    settings: Settings
    _node: NodeTools | ToolMissingError | None = None
    _netns: list[str] | None | bool = False  # False: not looked for yet
    _counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def logs(self) -> Path:
        return self.settings.scratch / "logs"

    def folder(self, name: str) -> Path:
        """A fresh scratch folder for this run."""
        path = self.settings.scratch / f"{name}-{next(self._counter)}"
        path.mkdir(parents=True)
        return path

    def node(self) -> NodeTools:
        """Pinned Miniflare and wrangler; raises ToolMissingError (smoke runs never install them)."""
        if self._node is None:
            if not self.settings.node:
                self._node = ToolMissingError("the Node peers are off (--no-node)")
            else:
                try:
                    self._node = ensure_node_tools(self.settings.cache, self.settings.install)
                except ToolMissingError as exc:
                    self._node = exc
        if isinstance(self._node, ToolMissingError):
            raise self._node
        return self._node

    def netns(self) -> list[str]:
        """The argv prefix that runs a command without network; raises ToolMissingError."""
        if self._netns is False:
            self._netns = netns_prefix()
        if not self._netns:
            raise ToolMissingError("cannot create a network namespace (unshare -n) to run wrangler offline")
        return self._netns  # type: ignore[return-value]

    def check_load_tool(self) -> None:
        if self.settings.use_wrk:
            ensure_wrk(self.settings.install)

    def port(self) -> int:
        return free_port()

    @contextlib.contextmanager
    def started(self, *servers: Server) -> Iterator[None]:
        """Start the servers (in order) and stop them all when done."""
        with contextlib.ExitStack() as stack:
            for server in servers:
                server.start()
                stack.callback(server.stop)
            yield


def series(results: list[LoadResult], figure: Callable[[LoadResult], float | None]) -> Series | None:
    values = [figure(result) for result in results]
    if not values or any(value is None for value in values):
        return None
    return Series([value for value in values if value is not None])


def load_lines(name: str, results: list[LoadResult]) -> tuple[str, dict[str, Series | None]]:
    """The line shown for one peer's load rounds, and its series (rps, p50, p99, cpu)."""
    figures = {
        "rps": series(results, lambda r: r.rps),
        "p50": series(results, lambda r: r.p50_ms),
        "p99": series(results, lambda r: r.p99_ms),
        "cpu": series(results, lambda r: r.cpu_us_per_request),
    }
    parts = [f"{name}: {figures['rps'].show('req/s')}" if figures["rps"] else f"{name}: -"]
    if figures["p50"] and figures["p99"]:
        parts.append(f"p50 {figures['p50'].show('ms', 1)}, p99 {figures['p99'].show('ms', 1)}")
    if figures["cpu"]:
        parts.append(f"CPU {figures['cpu'].show('µs/request')}")
    failed = sum(result.failed for result in results)
    if failed:
        parts.append(f"{failed} FAILED requests")
    return "; ".join(parts), figures


Scenario = Callable[[Context, set[str]], list[Row]]


def groups() -> list[tuple[tuple[str, ...], Scenario]]:
    """(row keys, scenario) for every group, in table order."""
    from . import bulk, devloop, encryption, engines, scale, testloop, throughput, workers

    return [
        (throughput.KEYS, throughput.run),
        (scale.KEYS, scale.run),
        (bulk.KEYS, bulk.run),
        (engines.KEYS, engines.run),
        (encryption.KEYS, encryption.run),
        (devloop.KEYS, devloop.run),
        (workers.KEYS, workers.run),
        (testloop.KEYS, testloop.run),
    ]
