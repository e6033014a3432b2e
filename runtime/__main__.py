"""``python -m runtime`` runs the ``workerhost`` command line."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
