"""``workerhost kv rekey``: encrypt a store's KV data, move it to a new key, or decrypt it.

The new key is the one the config names, as ``workerhost dev`` would use it: ``--kv-key-file``,
``WORKERHOST_KV_KEY_FILE`` or kv.yaml's ``encryption``; ``--decrypt`` instead stores the data plain,
so a config that lost its key never decrypts a store by accident. The old key, for a store encrypted
now, is ``--old-key-file`` or ``--old-key-env``. A rekey killed midway is finished by running the same
command again (``bindings.storage.encryption.rekey``). It works on the engine itself, so it runs on
stores every other command refuses: plain ones given a key, ones with a rekey under way.
"""

from __future__ import annotations

import argparse

from bindings.errors import EncryptionError
from bindings.storage.base import NamespaceInfo
from bindings.storage.encryption import EncryptionKey, KeyFormatError
from bindings.storage.encryption.rekey import RekeyResult, rekey
from bindings.storage.engines import open_engine

from ...config.encryption import explain
from ...errors import UsageError
from .output import Progress, counted, note, progress
from .session import Session

__all__ = ["rekey_store"]


class _Bar:
    """The rekey's progress as the other jobs' bars show it: one step per namespace."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.namespaces = 0

    def started(self, namespaces: int, keys: int) -> None:
        self.namespaces = namespaces

    def namespace(self, info: NamespaceInfo, index: int, keys: int) -> None:
        self.bar.step(f'namespace "{info.title}" ({index} of {self.namespaces})', keys)

    def advanced(self, keys: int) -> None:
        self.bar.advance(keys)


def _old_key(args: argparse.Namespace) -> EncryptionKey | None:
    try:
        if args.old_key_file:
            return EncryptionKey.from_file(args.old_key_file, f"--old-key-file {args.old_key_file}")
        if args.old_key_env:
            return EncryptionKey.from_environment(args.old_key_env)
    except KeyFormatError as exc:
        raise UsageError(str(exc)) from None
    return None


def _said(result: RekeyResult, old: EncryptionKey | None, new: EncryptionKey | None, where: str) -> str:
    if result.nothing_to_do:
        return f"nothing to do: the KV store at {where} is " + (
            "not encrypted" if new is None else f"already encrypted with key {new.id}"
        )
    how = "decrypted" if new is None else ("encrypted" if old is None else "re-encrypted")
    key = "" if new is None else f" with key {new.id}"
    done = f" ({counted(result.already, 'key')} already were)" if result.already else ""
    again = "finished the rekey under way: " if result.resumed else ""
    namespaces = counted(result.namespaces, "namespace")
    return f"{again}{how} {counted(result.rewritten, 'key')}{key} in {namespaces} of {where}{done}"


async def rekey_store(session: Session, args: argparse.Namespace) -> int:
    new = session.key
    if new is None and not args.decrypt:
        raise UsageError(
            "no new key is configured (kv.yaml's encryption, --kv-key-file or WORKERHOST_KV_KEY_FILE); to store "
            'the KV data unencrypted instead, pass --decrypt (README "Encryption at rest")'
        )
    if new is not None and args.decrypt:
        raise UsageError(f"--decrypt stores the KV data unencrypted, but a new key is configured ({new.source})")
    old = _old_key(args)
    engine = open_engine(session.storage)
    try:
        with progress("rekeying") as bar:
            result = await rekey(engine, old, new, _Bar(bar))
    except EncryptionError as exc:
        raise UsageError(explain(exc) if exc.reason == "rekeying" else str(exc)) from None
    finally:
        await engine.close()
    note(_said(result, old, new, session.where))
    return 0

