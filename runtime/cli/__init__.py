"""The ``workerhost`` command line.

command.py      the ``workerhost`` parser, ``workerhost dev``, and errors as one line and exit status 1
kv/             ``workerhost kv ...``: KV straight on the data, with no server
"""

from __future__ import annotations

from .command import main

__all__ = ["main"]
