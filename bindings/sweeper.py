"""The background sweep that deletes expired entries, so disk use does not grow with dead keys.

Reads already treat expired keys as missing (and delete them lazily); the sweep reclaims the ones
nobody reads again. Expiry is judged by the injected clock; only the pace of the sweep is real time.
"""

from __future__ import annotations

import asyncio
import logging

from .clock import Clock
from .errors import StorageError
from .storage.base import Store

__all__ = ["DEFAULT_SWEEP_INTERVAL", "sweep_forever"]

DEFAULT_SWEEP_INTERVAL = 60.0
logger = logging.getLogger("workerhost.kv")


async def sweep_forever(store: Store, clock: Clock, interval: float = DEFAULT_SWEEP_INTERVAL) -> None:
    """Purge expired entries from every namespace every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            purged = await store.purge_expired(clock.now())
        except StorageError as exc:  # a full disk, a file locked too long: the next sweep tries again
            logger.warning("expiry sweep failed: %s", exc)
            continue
        except Exception:  # nothing may stop the sweep for good: expired keys would pile up unseen
            logger.exception("expiry sweep failed")
            continue
        if purged:
            logger.debug("expiry sweep deleted %d entries", purged)
