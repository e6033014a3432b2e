"""Finding the config file as wrangler finds its own: here, then in each parent folder.

In each folder, kv.yaml (workerhost's own format) comes first, then wrangler.jsonc, wrangler.json and
wrangler.toml. ``workerhost dev`` and ``workerhost kv`` both look this way, so run from anywhere
inside a project they use the same config, and so the same data.
"""

from __future__ import annotations

import os
from pathlib import Path

from .model import DEFAULT_CONFIG_FILE

__all__ = ["CONFIG_FILES", "find_config"]

CONFIG_FILES = (DEFAULT_CONFIG_FILE, "wrangler.jsonc", "wrangler.json", "wrangler.toml")


def find_config(start: Path) -> str | None:
    """The first config file in ``start`` or its parents, as a path relative to ``start`` (None if there is none)."""
    start = start.absolute()
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file():
                return name if folder == start else os.path.relpath(candidate, start)
    return None
