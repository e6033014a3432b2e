"""The store's ``encryption`` setting: which key its entries are sealed with, and any rekey under way.

Kept with the catalog (``Store.read_setting``), so every process using the store reads the same
record, and changed only by compare-and-set. As JSON::

    {"format": 1, "cipher": "AES-256-GCM",
     "key": {"id": "1a2b3c4d", "check": "<base64>"},           null while a plain store is being encrypted
     "rekey": {"to": {"id": ..., "check": ...} or null, "done": ["<namespace id>", ...]}}     only during a rekey

No record means a plain store (entries stored as written). The *check* is a fixed text sealed with the
key (fresh nonce, associated data naming the check): a key opens it or it is the wrong key, so a
wrong key is told at start, before anything is read or written. The id alone would tell a wrong key
only with the odds of a 32-bit match; the check makes it certain.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...errors import EncryptionError
from .keys import EncryptionKey

__all__ = ["SETTING", "KeyCheck", "Record", "Rekey", "parse_record"]

SETTING = "encryption"
FORMAT = 1
CIPHER = "AES-256-GCM"
_CHECK_TEXT = b"workerhost kv key check"
_CHECK_AAD = b"workerhost-kv\x00check\x00"
_NONCE = 12


@dataclass(frozen=True)
class KeyCheck:
    """A key's id and its sealed check text."""

    id: str
    check: str

    @classmethod
    def of(cls, key: EncryptionKey) -> KeyCheck:
        nonce = os.urandom(_NONCE)
        sealed = key.aead.encrypt(nonce, _CHECK_TEXT, _CHECK_AAD + key.id_bytes)
        return cls(key.id, base64.b64encode(nonce + sealed).decode("ascii"))

    def opens_with(self, key: EncryptionKey) -> bool:
        """True if ``key`` is the key this check was made with."""
        from cryptography.exceptions import InvalidTag

        if key.id != self.id:
            return False
        try:
            raw = base64.b64decode(self.check, validate=True)
            return key.aead.decrypt(raw[:_NONCE], raw[_NONCE:], _CHECK_AAD + key.id_bytes) == _CHECK_TEXT
        except (InvalidTag, binascii.Error, ValueError):
            return False

    def json(self) -> dict[str, str]:
        return {"id": self.id, "check": self.check}


@dataclass(frozen=True)
class Rekey:
    """A rekey under way: the key it seals every entry with (None: it decrypts them), and the namespaces done."""

    to: KeyCheck | None
    done: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Record:
    """What the ``encryption`` setting says: the key (None: plain entries) and any rekey under way."""

    key: KeyCheck | None
    rekey: Rekey | None = None

    def text(self) -> str:
        body: dict[str, object] = {"format": FORMAT, "cipher": CIPHER, "key": _json(self.key)}
        if self.rekey is not None:
            body["rekey"] = {"to": _json(self.rekey.to), "done": sorted(self.rekey.done)}
        return json.dumps(body, separators=(",", ":"))

    def with_done(self, namespace_ids: Iterable[str]) -> Record:
        assert self.rekey is not None
        return Record(self.key, Rekey(self.rekey.to, self.rekey.done | frozenset(namespace_ids)))


def _json(check: KeyCheck | None) -> dict[str, str] | None:
    return None if check is None else check.json()


def parse_record(text: str | None, where: str) -> Record | None:
    """The record a setting's text holds (None for none); raises ``EncryptionError`` if it cannot be read."""
    if text is None:
        return None
    try:
        body = json.loads(text)
        if body.get("format") != FORMAT or body.get("cipher") != CIPHER:
            raise ValueError(f"format {body.get('format')!r}, cipher {body.get('cipher')!r}")
        key = _check(body["key"])
        rekey = None
        if "rekey" in body:
            rekey = Rekey(_check(body["rekey"]["to"]), frozenset(str(d) for d in body["rekey"]["done"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EncryptionError(
            f"the encryption record of the KV store at {where} cannot be read ({exc}); was it written by a newer "
            "workerhost? Nothing was read or written",
            "record",
        ) from None
    return Record(key, rekey)


def _check(value: object) -> KeyCheck | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value["id"], str) or not isinstance(value["check"], str):
        raise ValueError("a key is not {id, check}")
    return KeyCheck(value["id"], value["check"])
