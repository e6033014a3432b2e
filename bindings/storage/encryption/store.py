"""``KeyedStore``: the store ``open_store`` returns, opened with an encryption key or explicitly without one.

At its first use it reads the store's ``encryption`` record (``record``) and refuses to go on, before
anything is read or written, if the key given does not fit the store:

* a key, and the record names another key (the check does not open): the wrong key;
* a key, no record, and the store holds entries: they are plain, and encrypting them is
  ``rekey``'s job (an empty store is claimed for the key: its record is written by compare-and-set,
  so of two processes claiming it with different keys, one is refused);
* no key, and the record names one: the store is encrypted;
* a rekey under way (``rekey``), whatever the key: the store is half of each until it finishes.

With a key, each namespace's storage seals and opens its entries (``namespace``). Without one,
namespaces are the engine's own, and the check at first use is all this costs. Anything else the
engine offers (``durability``, ``destroy``, ``set_max_pages``) is reached through it unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import EncryptionError, NamespaceNotFoundError
from ..base import NamespaceInfo, NamespaceStorage, Store
from .keys import EncryptionKey

__all__ = ["KeyedStore", "describe", "has_entries", "verify_store"]

_CLAIM_ATTEMPTS = 3


def describe(store: object) -> str:
    """Where an engine's data is, for messages: a Redis location (without its password), or a directory."""
    location = getattr(store, "location", None)
    if isinstance(location, str):
        return location
    root = getattr(store, "root", None)
    return str(root) if root is not None else repr(store)


async def has_entries(store: Store) -> bool:
    """True if any namespace of ``store`` holds an entry, expired or not."""
    for info in await store.list_namespaces():
        try:
            rows, _ = await (await store.namespace(info.id)).list(b"", None, 1, -math.inf)
        except NamespaceNotFoundError:
            continue  # deleted meanwhile
        if rows:
            return True
    return False


class KeyedStore:
    """A ``Store`` whose entries ``key`` seals (None: plain entries), checked against the store's record first.

    Args:
        inner: the engine.
        key: the encryption key, or None for a store of plain entries.
    """

    def __init__(self, inner: Store, key: EncryptionKey | None) -> None:
        self.inner = inner
        self.key = key
        self.where = describe(inner)
        self._verified = False
        self._handles: dict[str, tuple[NamespaceStorage, NamespaceStorage]] = {}

    def __repr__(self) -> str:
        return f"KeyedStore({self.inner!r}, key={self.key!r})"

    def __getattr__(self, name: str) -> Any:
        # The engine's own extras (durability, destroy, set_max_pages, root, ...), as if it were the engine.
        if name.startswith("__") or name in ("inner", "key", "where", "_verified", "_handles"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    # --- the check -------------------------------------------------------------------------------

    async def verify(self) -> None:
        """Check the key against the store's record (once); raises ``EncryptionError`` if it does not fit."""
        if self._verified:
            return
        from .record import SETTING, parse_record

        for _ in range(_CLAIM_ATTEMPTS):
            text = await self.inner.read_setting(SETTING)
            record = parse_record(text, self.where)
            if record is not None and record.rekey is not None:
                raise self._rekeying(record.key, record.rekey.to, len(record.rekey.done))
            stored = None if record is None else record.key
            if self.key is None:
                if stored is not None:
                    raise EncryptionError(
                        f"the KV store at {self.where} is encrypted (key id {stored.id}), and no key was given; "
                        "nothing was read or written",
                        "no key",
                    )
                break
            if stored is not None:
                if not stored.opens_with(self.key):
                    raise EncryptionError(
                        f"the KV store at {self.where} is encrypted with another key (id {stored.id}) than the "
                        f"one from {self.key.source} (id {self.key.id}); nothing was read or written",
                        "wrong key",
                    )
                break
            if await has_entries(self.inner):
                raise EncryptionError(
                    f"the KV store at {self.where} holds unencrypted entries, and an encryption key was given "
                    f"(from {self.key.source}); nothing was read or written",
                    "plain data",
                )
            if await self._claim(text):
                break
        else:
            raise EncryptionError(f"the encryption record of the KV store at {self.where} kept changing", "record")
        self._verified = True

    async def _claim(self, expected: str | None) -> bool:
        from .record import SETTING, KeyCheck, Record

        assert self.key is not None
        return await self.inner.write_setting(SETTING, Record(KeyCheck.of(self.key)).text(), expected=expected)

    def _rekeying(self, source: object, target: object, done: int) -> EncryptionError:
        def name(check: object) -> str:
            return "plain" if check is None else f"key {getattr(check, 'id', '?')}"

        return EncryptionError(
            f"a rekey of the KV store at {self.where} is under way (from {name(source)} to {name(target)}, "
            f"{done} namespace{'' if done == 1 else 's'} done); the store cannot be used until it finishes",
            "rekeying",
        )

    # --- namespaces ------------------------------------------------------------------------------

    async def namespace(self, namespace_id: str) -> NamespaceStorage:
        await self.verify()
        inner = await self.inner.namespace(namespace_id)
        if self.key is None:
            return inner
        handle = self._handles.get(namespace_id)
        if handle is None or handle[0] is not inner:
            from .namespace import EncryptedNamespace

            handle = self._handles[namespace_id] = (inner, EncryptedNamespace(inner, namespace_id, self.key))
        return handle[1]

    async def create_namespace(self, title: str, namespace_id: str | None = None) -> NamespaceInfo:
        await self.verify()
        return await self.inner.create_namespace(title, namespace_id)

    async def get_namespace(self, namespace_id: str) -> NamespaceInfo | None:
        await self.verify()
        return await self.inner.get_namespace(namespace_id)

    async def find_namespace(self, title: str) -> NamespaceInfo | None:
        await self.verify()
        return await self.inner.find_namespace(title)

    async def list_namespaces(self) -> list[NamespaceInfo]:
        await self.verify()
        return await self.inner.list_namespaces()

    async def rename_namespace(self, namespace_id: str, title: str) -> NamespaceInfo:
        await self.verify()
        return await self.inner.rename_namespace(namespace_id, title)

    async def delete_namespace(self, namespace_id: str) -> None:
        await self.verify()
        await self.inner.delete_namespace(namespace_id)

    async def purge_expired(self, now: float) -> int:
        await self.verify()
        return await self.inner.purge_expired(now)

    async def read_setting(self, name: str) -> str | None:
        return await self.inner.read_setting(name)

    async def write_setting(self, name: str, value: str | None, *, expected: str | None) -> bool:
        return await self.inner.write_setting(name, value, expected=expected)

    async def close(self) -> None:
        await self.inner.close()


async def verify_store(store: Store) -> None:
    """Check a store's key against its record now (``KeyedStore.verify``); a bare engine needs no check."""
    if isinstance(store, KeyedStore):
        await store.verify()
