"""How safe an acknowledged write is in a store, said plainly for the banner and the log.

An engine that depends on a server's settings (Redis) reports them through ``durability()``; the
SQLite engine commits with ``synchronous=FULL`` before it acknowledges, so a store without the
method is durable. README "Storage" states the guarantee per engine and setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["DURABLE", "Durability", "ReportsDurability", "durability_of"]


@dataclass(frozen=True, slots=True)
class Durability:
    """Whether every acknowledged write survives a crash of the store (or of its server).

    Args:
        durable: True if it does, False if it can be lost, None if the store cannot tell.
        settings: what the store runs with, e.g. ``appendonly yes, appendfsync everysec``.
        risk: what can be lost, when ``durable`` is not True.
        fix: how to make it durable, when ``durable`` is not True.
    """

    durable: bool | None
    settings: str
    risk: str | None = None
    fix: str | None = None

    def warning(self) -> str | None:
        """One paragraph for the banner and the log, or None when every acknowledged write is safe."""
        if self.durable:
            return None
        return f"{self.risk} ({self.settings}). {self.fix}"


DURABLE = Durability(True, "every write is committed to disk before it is acknowledged")


@runtime_checkable
class ReportsDurability(Protocol):
    """A store whose durability depends on something outside workerhost (a server's settings)."""

    async def durability(self) -> Durability:
        """Read the settings that decide it (connecting if need be); raises ``StorageError`` if unreachable."""
        ...


async def durability_of(store: object) -> Durability:
    """``store.durability()`` if the store reports it; otherwise the store is durable by construction."""
    if isinstance(store, ReportsDurability):
        return await store.durability()
    return DURABLE
