"""Ctrl-C and SIGTERM, routed through the event loop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

__all__ = ["handle_signals"]


def handle_signals(loop: asyncio.AbstractEventLoop, handler: Callable[[int], object]) -> list[int]:
    """Route Ctrl-C and SIGTERM to ``handler`` through the loop; returns the signals handled."""
    installed: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # Windows, or not the main thread
            continue
        installed.append(sig)
    return installed
