"""Where the host's log goes when ``workerhost dev`` serves: one stream, stderr, one line per event."""

from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging"]


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"[{record.levelname.lower()}] {message}"
        return message


def setup_logging(level: int = logging.INFO) -> None:
    """Send the host's log (reloads, handler errors) to stderr; uvicorn's and watchfiles' only from warnings up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter("%(message)s"))
    for name, logger_level in (("workerhost", level), ("uvicorn", logging.WARNING), ("watchfiles", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logger_level)
        logger.propagate = False
