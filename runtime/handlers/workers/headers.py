"""``Headers``: HTTP headers as Workers code sees them, case-insensitive, with ``get`` giving None.

It reads like Python's ``http.client.HTTPMessage`` (which Cloudflare's Python Workers hand out for
``request.headers``) and like JavaScript's ``Headers``: ``headers["Content-Type"]``,
``headers.get("x-missing")`` is None, ``"accept" in headers``, ``headers.items()`` with repeated names
kept apart, ``get_all``/``getlist`` for every value of a name, and ``set``/``append``/``delete``/``has``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeAlias

__all__ = ["Headers", "HeadersInit", "check_header"]

HeadersInit: TypeAlias = "Mapping[str, str] | Iterable[tuple[str, str]] | Headers | None"


def check_header(name: str, value: str) -> None:
    """Refuse what the Headers class of Workers refuses: a value that could break (or forge) the message."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise TypeError(f"Invalid header value for {name!r}: it holds a line break or NUL ({value!r})")


class Headers(MutableMapping[str, str]):
    """Case-insensitive HTTP headers that keep repeated names (``Set-Cookie``) apart."""

    __slots__ = ("_items",)

    def __init__(self, init: Any = None) -> None:
        self._items: list[tuple[str, str]] = []
        if init is None:
            return
        pairs: Iterable[Any]
        if isinstance(init, Headers):
            pairs = init._items
        elif isinstance(init, Mapping):
            pairs = init.items()
        elif hasattr(init, "multi_items"):  # Starlette's Headers
            pairs = init.multi_items()
        else:
            pairs = init
        for name, value in pairs:
            self.append(str(name), str(value))

    @classmethod
    def from_raw(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        """From ASGI's ``[(name, value)]`` byte pairs."""
        headers = cls()
        headers._items = [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in raw]
        return headers

    def raw(self) -> list[tuple[bytes, bytes]]:
        """As ASGI's ``[(name, value)]`` byte pairs (names in lower case)."""
        return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self._items]

    # --- the mapping: one value per name, repeated names joined with ", " as Fetch does ----------

    def __getitem__(self, name: str) -> str:
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return values[0] if len(values) == 1 else ", ".join(values)

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if not self.has(name):
            raise KeyError(name)
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for name, _ in self._items:
            if name not in seen:
                seen.add(name)
                yield name

    def __len__(self) -> int:
        return len({name for name, _ in self._items})

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        if isinstance(other, Mapping):
            return dict(self) == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every (name, value) pair, repeated names included, names in lower case."""
        return list(self._items)

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, as Starlette names it."""
        return list(self._items)

    # --- JavaScript's and http.client's spellings ----------------------------------------------

    def get_all(self, name: str, failobj: Any = None) -> list[str]:
        """Every value of ``name`` (``http.client.HTTPMessage.get_all``); [] (or ``failobj``) when absent."""
        key = name.lower()
        values = [value for item, value in self._items if item == key]
        return values if values or failobj is None else failobj

    getlist = get_all

    def has(self, name: str) -> bool:
        key = name.lower()
        return any(item == key for item, _ in self._items)

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with ``value``."""
        check_header(name, value)
        key = name.lower()
        self._items = [(item, old) for item, old in self._items if item != key]
        self._items.append((key, value))

    def append(self, name: str, value: str) -> None:
        """Add a value, keeping those already there."""
        check_header(name, value)
        self._items.append((name.lower(), value))

    def delete(self, name: str) -> None:
        key = name.lower()
        self._items = [(item, value) for item, value in self._items if item != key]

    def get_set_cookie(self) -> list[str]:
        return self.get_all("set-cookie")

    getSetCookie = get_set_cookie
