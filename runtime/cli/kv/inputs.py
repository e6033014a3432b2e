"""Reading what a ``workerhost kv`` command is given: JSON files, and values from argv, a file or stdin.

Every problem becomes a ``UsageError`` naming the file and what was expected. ``-`` means stdin.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from bindings.javascript import parse_json

from ...errors import UsageError

__all__ = ["json_type", "read_array", "read_bytes", "read_value"]


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def read_bytes(path: str) -> bytes:
    """A whole file (``-``: stdin) as bytes."""
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def read_array(path: str, expected: str) -> list[Any]:
    """A JSON file that must hold an array; ``expected`` describes its items for the message."""
    try:
        data = parse_json(read_bytes(path))  # as wrangler's JSON.parse reads it
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON array of {expected}, got {json_type(data)}")
    return data


def read_value(value: str | None, path: str | None) -> bytes:
    """A value given on the command line (as the bytes typed, whatever the locale) or read from ``--path``."""
    if (value is None) == (path is None):
        raise UsageError("give the value as an argument or with --path FILE (- for stdin), not both or neither")
    if path is not None:
        return read_bytes(path)
    assert value is not None
    return os.fsencode(value)  # argv bytes that are not valid in the locale come back unchanged
