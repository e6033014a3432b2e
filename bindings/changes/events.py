"""One change to KV data as the live feed tells it, and its one-line JSON form in the journal.

An event names what was done (``op``), where (a namespace id, and its title for namespace
changes), to which keys (the first ``MAX_LISTED`` of them, and how many in all) and by whom
(``source``: ``worker counter``, ``REST API``, ``CLI``...). Values are never part of it.

Journal lines come from other processes, and a file anyone can write to may hold anything, so
``parse_line`` accepts a line only if every field has its type; anything else is dropped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_LISTED", "OPERATIONS", "ChangeEvent", "parse_line"]

# Keys named per event: a bulk write of 10,000 pairs is one event, not 10,000.
MAX_LISTED = 20
OPERATIONS = frozenset({"put", "delete", "namespace_create", "namespace_rename", "namespace_delete"})
_FORMAT = 1
_MAX_TEXT = 1024  # characters of a source or title read back from a journal line


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A write, a delete or a namespace change, as it happened.

    Attributes:
        at: when (seconds since the epoch, by the recording process's clock).
        op: one of ``OPERATIONS``.
        namespace: the namespace id.
        keys: the first ``MAX_LISTED`` keys written or deleted (none for namespace changes).
        count: how many keys in all.
        source: who did it, for people: ``worker NAME``, ``REST API``, ``CLI``.
        origin: which process recorded it (a token of its own), so a process skips its own journal lines.
        title: the namespace's title, for namespace changes.
    """

    at: float
    op: str
    namespace: str
    keys: tuple[str, ...]
    count: int
    source: str
    origin: str
    title: str | None = None

    @classmethod
    def of_keys(
        cls,
        at: float,
        op: str,
        namespace: str,
        keys: Sequence[bytes],
        source: str,
        origin: str,
        count: int | None = None,
    ) -> ChangeEvent:
        """An event for ``keys`` (UTF-8 bytes, as storage holds them); ``count`` if they are only the first ones."""
        listed = tuple(key.decode("utf-8", "replace") for key in keys[:MAX_LISTED])
        return cls(at, op, namespace, listed, len(keys) if count is None else count, source, origin)

    def to_json(self) -> dict[str, Any]:
        """The fields a client sees (the dashboard's feed)."""
        body: dict[str, Any] = {
            "at": self.at,
            "op": self.op,
            "namespace": self.namespace,
            "keys": list(self.keys),
            "count": self.count,
            "source": self.source,
        }
        if self.title is not None:
            body["title"] = self.title
        return body

    def line(self) -> bytes:
        """One journal line, newline included."""
        body = {"v": _FORMAT, **self.to_json(), "origin": self.origin}
        return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def parse_line(line: bytes) -> ChangeEvent | None:
    """The event a journal line holds, or None if it is not one (damaged, foreign, another version)."""
    try:
        body = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(body, dict) or body.get("v") != _FORMAT:
        return None
    at, op, namespace, keys = body.get("at"), body.get("op"), body.get("namespace"), body.get("keys")
    count, source, origin, title = body.get("count"), body.get("source"), body.get("origin"), body.get("title")
    if not (isinstance(at, int | float) and not isinstance(at, bool) and math.isfinite(at) and op in OPERATIONS):
        return None
    if not (isinstance(namespace, str) and isinstance(source, str) and isinstance(origin, str)):
        return None
    if not (isinstance(keys, list) and len(keys) <= MAX_LISTED and all(isinstance(key, str) for key in keys)):
        return None
    if not (isinstance(count, int) and not isinstance(count, bool) and count >= 0):
        return None
    if title is not None and not isinstance(title, str):
        return None
    return ChangeEvent(
        float(at),
        op,
        namespace[:_MAX_TEXT],
        tuple(keys),
        count,
        source[:_MAX_TEXT],
        origin[:_MAX_TEXT],
        None if title is None else title[:_MAX_TEXT],
    )
