"""``FormData``: form fields as Workers hand them out, text values and ``File``s, names repeatable.

``form["name"]`` gives the first value, ``get_all`` every one, ``append`` adds, assignment replaces.
As a body (a ``Response``, a ``Request``, an outbound ``fetch``) it is sent as
``multipart/form-data``; ``request.form_data()`` builds one from a urlencoded or multipart body.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from .blob import Blob, File

__all__ = ["FormData", "FormDataValue"]

FormDataValue = Any  # str, Blob or File


def _entry(value: Any, filename: str | None = None) -> str | File:
    if isinstance(value, Blob):
        if isinstance(value, File) and filename is None:
            return value
        return File(value, filename or (value.name if isinstance(value, File) else "blob"), value.content_type)
    if isinstance(value, list):
        raise TypeError("Expected a single value, not a list; use append() for more than one")
    return str(value)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class FormData(MutableMapping[str, Any]):
    """Ordered form fields; a name may appear more than once."""

    __slots__ = ("_entries",)

    def __init__(self, form_data: Mapping[str, Any] | FormData | Any = None) -> None:
        self._entries: list[tuple[str, str | File]] = []
        if not form_data:
            return
        if isinstance(form_data, FormData):
            self._entries = list(form_data._entries)
        elif isinstance(form_data, Mapping):
            for name, value in form_data.items():
                self.append(name, value)
        elif hasattr(form_data, "multi_items"):  # Starlette's FormData
            for name, value in form_data.multi_items():
                self._entries.append((name, _starlette_value(value)))
        else:
            raise TypeError("Expected form_data to be a dict or an instance of FormData")

    def __getitem__(self, name: str) -> Any:
        for key, value in self._entries:
            if key == name:
                return value
        raise KeyError(name)

    def __setitem__(self, name: str, value: Any) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self._entries)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self._entries:
            if key not in seen:
                seen.add(key)
                yield key

    def __len__(self) -> int:
        return len(set(key for key, _ in self._entries))

    def __repr__(self) -> str:
        return f"FormData({self._entries!r})"

    def set(self, name: str, value: Any, filename: str | None = None) -> None:
        entry = _entry(value, filename)
        self._entries = [(key, old) for key, old in self._entries if key != name]
        self._entries.append((name, entry))

    def append(self, name: str, value: Any, filename: str | None = None) -> None:
        self._entries.append((name, _entry(value, filename)))

    def delete(self, name: str) -> None:
        self._entries = [(key, value) for key, value in self._entries if key != name]

    def has(self, name: str) -> bool:
        return name in self

    def get_all(self, name: str) -> list[Any]:
        return [value for key, value in self._entries if key == name]

    getAll = get_all

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        """Every (name, value), repeated names included."""
        return list(self._entries)

    def encode(self) -> tuple[bytes, str]:
        """The fields as a ``multipart/form-data`` body, and its content type (with the boundary)."""
        boundary = "----workerhost" + secrets.token_hex(16)
        parts: list[bytes] = []
        for name, value in self._entries:
            disposition = f'Content-Disposition: form-data; name="{_quoted(name)}"'
            if isinstance(value, File):
                kind = value.content_type or "application/octet-stream"
                head = f'{disposition}; filename="{_quoted(value.name)}"\r\nContent-Type: {kind}\r\n\r\n'
                parts.append(f"--{boundary}\r\n{head}".encode() + value._data + b"\r\n")
            else:
                parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n".encode() + value.encode("utf-8") + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _starlette_value(value: Any) -> str | File:
    if isinstance(value, str):
        return value
    data = value.file.read()  # an UploadFile, already spooled by Starlette
    return File([data], value.filename or "blob", value.content_type)
