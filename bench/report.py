"""Results: each row of the table with what was measured, the ratios against its targets, and how to show them.

A row holds ``Series`` (one figure over the rounds: median and min–max) per peer, the ``Check`` of
each target, notes, and the raw data for the JSON file. ``render_text`` prints the table for a
terminal; ``render_markdown`` gives the README's table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Check", "Row", "Series", "machine", "ratio", "render_markdown", "render_text", "write_json"]


@dataclass
class Series:
    """One figure measured over several rounds."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, unit: str = "", digits: int = 0) -> str:
        """``median unit (min–max)``, or just the value for one round."""

        def number(value: float) -> str:
            return f"{value:,.{digits}f}"

        text = number(self.median) + (f" {unit}" if unit else "")
        if len(self.values) > 1:
            text += f" ({number(min(self.values))}–{number(max(self.values))})"
        return text

    def to_json(self) -> dict[str, Any]:
        values = self.values
        return {"median": self.median, "min": min(values), "max": max(values), "values": values}


@dataclass
class Check:
    """One target: the measured value (a ratio, or a size), the bound, and whether it is met."""

    label: str
    value: float | None
    bound: float
    at_least: bool  # value >= bound; otherwise value <= bound
    unit: str = "×"

    @property
    def ok(self) -> bool | None:
        if self.value is None:
            return None
        return self.value >= self.bound if self.at_least else self.value <= self.bound

    def show(self) -> str:
        sign = "≥" if self.at_least else "≤"
        measured = "n/a" if self.value is None else f"{self.value:,.2f}{self.unit}"
        mark = {True: "✓", False: "✗", None: "–"}[self.ok]
        return f"{self.label} {measured} (target {sign} {self.bound:g}{self.unit}) {mark}"

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "bound": self.bound,
            "at_least": self.at_least,
            "unit": self.unit,
            "ok": self.ok,
        }


def ratio(numerator: Series | float | None, denominator: Series | float | None) -> float | None:
    """median/median, or None when either side is missing or zero."""
    top = numerator.median if isinstance(numerator, Series) else numerator
    bottom = denominator.median if isinstance(denominator, Series) else denominator
    if top is None or not bottom:
        return None
    return top / bottom


@dataclass
class Row:
    """One row of the table."""

    key: str
    what: str
    target: str
    lines: list[str] = field(default_factory=list)  # what was measured, one peer or figure a line
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    unavailable: str | None = None  # why the row could not be measured at all

    @property
    def status(self) -> str:
        if self.unavailable is not None:
            return "not available"
        results = [check.ok for check in self.checks]
        if not results:
            return "reported"
        if any(result is False for result in results):
            return "MISSED"
        if any(result is None for result in results):
            return "partly measured"
        return "met"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "what": self.what,
            "target": self.target,
            "status": self.status,
            "unavailable": self.unavailable,
            "lines": self.lines,
            "checks": [check.to_json() for check in self.checks],
            "notes": self.notes,
            "data": _plain(self.data),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Series):
        return value.to_json()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "to_json"):
        return value.to_json()
    return value


def machine() -> dict[str, Any]:
    """What the run ran on, for the README's table header."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def render_text(rows: Sequence[Row], header: Iterable[str]) -> str:
    """The table for a terminal: one block per row."""
    out = [*header, ""]
    for row in rows:
        out.append(f"[{row.status}] {row.what}")
        out.append(f"    target: {row.target}")
        if row.unavailable:
            out.append(f"    not available: {row.unavailable}")
        out.extend(f"    {line}" for line in row.lines)
        out.extend(f"    → {check.show()}" for check in row.checks)
        out.extend(f"    note: {note}" for note in row.notes)
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(rows: Sequence[Row], header: Iterable[str]) -> str:
    """The README's table: what, measured, ratio vs target, verdict."""
    out = [*header, "", "| what | measured (median, min–max) | ratio | target | |", "|---|---|---|---|---|"]
    for row in rows:
        measured = "<br>".join(_cell(line) for line in row.lines) or _cell(row.unavailable or "")
        ratios = "<br>".join(
            _cell(f"{check.label}: {'n/a' if check.value is None else f'{check.value:,.2f}{check.unit}'}")
            for check in row.checks
        )
        mark = {"met": "✓", "MISSED": "✗"}.get(row.status, row.status)
        out.append(f"| {_cell(row.what)} | {measured} | {ratios} | {_cell(row.target)} | {mark} |")
    return "\n".join(out)


def write_json(path: Path, rows: Sequence[Row], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"meta": meta, "rows": [row.to_json() for row in rows]}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
