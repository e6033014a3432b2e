"""How one entry's value and metadata are sealed with AES-256-GCM before an engine stores them.

An engine stores an entry's value as bytes and its metadata as text; with encryption on, both hold
sealed forms (README "Encryption at rest")::

    value      version (1 byte) | key id (4) | nonce (12) | ciphertext | tag (16)
    metadata   "!" + base64(version | key id | nonce (12) | ciphertext | tag)
               "!" + base64(version | key id)                       when the entry has no metadata

Every seal takes a fresh random 96-bit nonce (``nonces``). The associated data binds each part to where it
belongs: the namespace id and the key name (length-prefixed), so a ciphertext copied to another key or
namespace fails to open and is never returned there; the value's also holds the metadata's nonce (or
none), so a value is only ever returned with the metadata written with it. The header is part of it
too, so an altered version or key id fails like altered ciphertext.

The metadata text always starts with ``!``, which no JSON text does: it marks an entry as encrypted
without opening anything, so a store holding both kinds is told apart entry by entry, and a rekey
killed midway finds which entries it has done (each records the id of the key that sealed it). Key
names, expirations and lengths stay plain: engines order, page and expire entries by them.

The cipher is ``cryptography``'s AESGCM; nothing here is cipher code.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from ...errors import IntegrityError
from ..base import Buffer
from .keys import EncryptionKey
from .nonces import fresh_nonce

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["HEADER", "MARK", "OVERHEAD", "Sealer", "sealed_with"]

VERSION = 1
MARK = "!"
HEADER = 5  # version and key id
NONCE = 12
TAG = 16
OVERHEAD = HEADER + NONCE + TAG  # what sealing adds to a value
_DOMAIN = b"workerhost-kv\x00"
_VALUE, _METADATA = b"v", b"m"
_SHOWN_KEY = 100
_IN_PLACE = 64 * 1024  # values over this are sealed into one buffer; smaller ones are quicker joined


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unpack(field: str) -> bytes | None:
    # The bytes of a metadata field that looks sealed, or None if it does not.
    try:
        raw = base64.b64decode(field[1:], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == HEADER or len(raw) >= HEADER + NONCE + TAG else None


def sealed_with(field: str | None) -> bytes | None:
    """The id of the key that sealed an entry, from its stored metadata text; None for a plain entry.

    Raises ``IntegrityError`` for a text marked sealed that is not a sealed form.
    """
    if field is None or not field.startswith(MARK):
        return None
    raw = _unpack(field)
    if raw is None or raw[0] != VERSION:
        raise IntegrityError(f"an entry's sealed metadata is malformed ({len(field)} characters)")
    return raw[1:HEADER]


def shown(key: bytes) -> str:
    """A key name for a message: decoded, and cut short."""
    text = key.decode("utf-8", "replace")
    return repr(text if len(text) <= _SHOWN_KEY else text[:_SHOWN_KEY] + "...")


class Sealer:
    """Seals and opens the entries of one namespace with one key.

    Args:
        key: the key.
        namespace_id: the namespace (32 hex digits): bound into every seal.
    """

    __slots__ = ("key", "namespace_id", "header", "no_metadata", "_aead", "_prefixes")

    def __init__(self, key: EncryptionKey, namespace_id: str) -> None:
        self.key = key
        self.namespace_id = namespace_id
        self.header = bytes([VERSION]) + key.id_bytes
        self.no_metadata = MARK + _b64(self.header)  # the metadata text of every entry without metadata
        self._aead: AESGCM = key.aead
        context = self.header + namespace_id.encode("ascii")
        self._prefixes = {_VALUE: _DOMAIN + _VALUE + context, _METADATA: _DOMAIN + _METADATA + context}

    def _aad(self, part: bytes, key: bytes, bound: bytes = b"") -> bytes:
        return self._prefixes[part] + len(key).to_bytes(4, "big") + key + bound

    # --- sealing ---------------------------------------------------------------------------------

    def seal(self, key: bytes, value: Buffer, metadata: str | None) -> tuple[bytes | bytearray, str]:
        """The sealed value and metadata text to store under ``key``, each with a fresh nonce."""
        if metadata is None:
            field, bound = self.no_metadata, b""
        else:
            bound = fresh_nonce()
            sealed = self._aead.encrypt(bound, metadata.encode("utf-8", "surrogatepass"), self._aad(_METADATA, key))
            field = MARK + _b64(self.header + bound + sealed)
        nonce = fresh_nonce()
        size = memoryview(value).nbytes
        if size <= _IN_PLACE:
            return self.header + nonce + self._aead.encrypt(nonce, value, self._aad(_VALUE, key, bound)), field
        blob = bytearray(OVERHEAD + size)  # sealed in place: a 25 MiB value is not copied again
        blob[:HEADER] = self.header
        blob[HEADER : HEADER + NONCE] = nonce
        self._aead.encrypt_into(nonce, value, self._aad(_VALUE, key, bound), memoryview(blob)[HEADER + NONCE :])
        return blob, field

    # --- opening ---------------------------------------------------------------------------------

    def open(self, key: bytes, blob: Buffer, field: str | None) -> tuple[bytes, str | None]:
        """The value and metadata sealed under ``key``; raises ``IntegrityError`` if they are not that."""
        raw = self._fields(key, field)
        bound = raw[HEADER : HEADER + NONCE]
        metadata = None if len(raw) == HEADER else self._open_metadata(key, raw)
        view = memoryview(blob)
        if len(view) < OVERHEAD or view[:HEADER] != self.header:
            raise self._unsealed(key, bytes(view[:HEADER]) if len(view) >= HEADER else None)
        from cryptography.exceptions import InvalidTag

        aad = self._aad(_VALUE, key, bound)
        try:
            value = self._aead.decrypt(view[HEADER : HEADER + NONCE], view[HEADER + NONCE :], aad)
        except InvalidTag:
            raise self._altered(key) from None
        return value, metadata

    def metadata(self, key: bytes, field: str | None) -> str | None:
        """The metadata sealed under ``key`` (None if the entry has none); raises ``IntegrityError``."""
        if field == self.no_metadata:
            return None
        raw = self._fields(key, field)
        return None if len(raw) == HEADER else self._open_metadata(key, raw)

    def _fields(self, key: bytes, field: str | None) -> bytes:
        if field is None or not field.startswith(MARK):
            raise IntegrityError(
                f"key {shown(key)} of namespace {self.namespace_id} is stored unencrypted in an encrypted store; "
                "a store holding both plain and encrypted entries is refused (was it written without the key?)",
                "plain data",
            )
        raw = _unpack(field)
        if raw is None:
            raise self._altered(key)
        if raw[:HEADER] != self.header:
            raise self._unsealed(key, raw[:HEADER])
        return raw

    def _open_metadata(self, key: bytes, raw: bytes) -> str:
        from cryptography.exceptions import InvalidTag

        try:
            plain = self._aead.decrypt(raw[HEADER : HEADER + NONCE], raw[HEADER + NONCE :], self._aad(_METADATA, key))
        except InvalidTag:
            raise self._altered(key) from None
        return plain.decode("utf-8", "surrogatepass")

    def _altered(self, key: bytes) -> IntegrityError:
        return IntegrityError(
            f"key {shown(key)} of namespace {self.namespace_id} failed its integrity check: it was not written "
            "under this key name and namespace with this encryption key (copied from elsewhere, or altered), "
            "so it is not returned"
        )

    def _unsealed(self, key: bytes, header: bytes | None) -> IntegrityError:
        if header is not None and len(header) == HEADER and header[0] == VERSION:
            return IntegrityError(
                f"key {shown(key)} of namespace {self.namespace_id} is encrypted with another key (id "
                f"{header[1:].hex()}), not the one given (id {self.key.id}); a store holding entries of two keys "
                "is refused",
                "wrong key",
            )
        return self._altered(key)
