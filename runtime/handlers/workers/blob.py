"""``Blob`` and ``File``: immutable bytes with a content type (and a name), as in Workers and the web.

Parts may be ``str`` (UTF-8), bytes-like, or other ``Blob``s. ``await blob.text()``/``bytes()`` read
them, ``slice`` cuts them; a ``Response``, a ``Request`` and ``FormData`` take them as bodies.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["Blob", "BlobValue", "File"]

BlobValue = Any  # str, bytes-like, Blob or File


def _part_bytes(part: Any) -> bytes:
    if isinstance(part, Blob):
        return part._data
    if isinstance(part, str):
        return part.encode("utf-8")
    if isinstance(part, bytes | bytearray | memoryview):
        return bytes(part)
    raise TypeError(f"Don't know how to handle {type(part).__name__} for Blob(); give str, bytes or Blob parts")


def _joined(parts: Any) -> bytes:
    if isinstance(parts, str | bytes | bytearray | memoryview | Blob):
        return _part_bytes(parts)
    if isinstance(parts, Iterable):
        return b"".join(_part_bytes(part) for part in parts)
    return _part_bytes(parts)


class Blob:
    """Bytes with a content type.

    Args:
        blob_parts: one part or a list of parts (str, bytes-like, Blob).
        content_type: its MIME type; a single Blob part passes its own on.
    """

    __slots__ = ("_data", "content_type")

    def __init__(self, blob_parts: Any = (), content_type: str | None = None, endings: str | None = None) -> None:
        if content_type is None and isinstance(blob_parts, Blob):
            content_type = blob_parts.content_type
        self._data: builtins.bytes = _joined(blob_parts)
        self.content_type: str = (content_type or "").lower()

    @property
    def size(self) -> int:
        return len(self._data)

    @property
    def type(self) -> str:
        """The content type, as JavaScript names it."""
        return self.content_type

    async def text(self) -> str:
        return self._data.decode("utf-8", "replace")

    async def array_buffer(self) -> builtins.bytes:
        return self._data

    arrayBuffer = array_buffer

    def slice(self, start: int | None = None, end: int | None = None, content_type: str | None = None) -> Blob:
        return Blob([self._data[slice(start, end)]], content_type)

    def __repr__(self) -> str:
        return f"Blob(size={self.size}, type={self.content_type!r})"

    async def bytes(self) -> builtins.bytes:
        return self._data


class File(Blob):
    """A ``Blob`` with a file name and a modification time (milliseconds since the epoch)."""

    __slots__ = ("name", "last_modified")

    def __init__(
        self,
        blob_parts: Any,
        filename: str,
        content_type: str | None = None,
        endings: str | None = None,
        last_modified: int | None = None,
    ) -> None:
        if last_modified is None and isinstance(blob_parts, File):
            last_modified = blob_parts.last_modified
        super().__init__(blob_parts, content_type, endings)
        self.name: str = filename
        self.last_modified: int = int(time.time() * 1000) if last_modified is None else last_modified

    @property
    def lastModified(self) -> int:  # the JavaScript spelling
        return self.last_modified

    def __repr__(self) -> str:
        return f"File({self.name!r}, size={self.size}, type={self.content_type!r})"
