"""Encryption keys: 32 bytes for AES-256, given as base64 or hex text, or as a file holding either (or the raw bytes).

A key's *id* is the first 4 bytes of HMAC-SHA-256 over a fixed label, keyed with the key, in hex: it
names the key in messages and in every sealed entry (so each entry records which key sealed it, and a
rekey killed midway knows which entries are done), and says nothing about the key itself. The key's
bytes never appear in a repr, a message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import EncryptionError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KEY_BYTES", "EncryptionKey", "KeyFormatError", "new_key_text"]

KEY_BYTES = 32  # AES-256
_ID_LABEL = b"workerhost kv key id"
_HEX = re.compile(r"[0-9a-fA-F]{64}")
_FORMS = "32 bytes as base64 (44 characters, e.g. `openssl rand -base64 32`) or hex (64 digits)"


class KeyFormatError(EncryptionError):
    """Key text or a key file that does not hold a 32-byte key; the message never shows the key."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "key format")


def new_key_text() -> str:
    """A fresh random key as base64 text, the form a key file or an environment variable holds."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode(text: str) -> bytes | None:
    text = "".join(text.split())
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    standard = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        raw = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


class EncryptionKey:
    """An AES-256 key and where it came from (``source``, for messages: an environment variable, a file).

    Build one with ``from_text``, ``from_file`` or ``from_environment``. Its repr shows the id and the
    source, never the key.
    """

    __slots__ = ("_secret", "source", "id", "id_bytes", "_aead")

    def __init__(self, secret: bytes, source: str) -> None:
        if len(secret) != KEY_BYTES:
            raise KeyFormatError(f"the encryption key from {source} is {len(secret)} bytes; expected {KEY_BYTES}")
        self._secret = bytes(secret)
        self.source = source
        self.id_bytes = hmac.new(self._secret, _ID_LABEL, hashlib.sha256).digest()[:4]
        self.id = self.id_bytes.hex()
        self._aead: AESGCM | None = None

    @classmethod
    def from_text(cls, text: str, source: str) -> EncryptionKey:
        """A key written as base64 (standard or URL-safe, padded or not) or hex; whitespace around it is ignored."""
        secret = _decode(text)
        if secret is None:
            raise KeyFormatError(
                f"the encryption key in {source} is not a key: expected {_FORMS}, got {len(text.strip())} characters"
            )
        return cls(secret, source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], source: str | None = None) -> EncryptionKey:
        """A key file: its text as ``from_text`` reads it, or exactly 32 raw bytes."""
        source = source or os.fspath(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyFormatError(f"the encryption key file {source} cannot be read: {exc.strerror or exc}") from None
        if len(data) == KEY_BYTES:  # no text form of a key is 32 characters long
            return cls(data, source)
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        secret = _decode(text)
        if secret is None:
            raise KeyFormatError(
                f"the encryption key file {source} does not hold a key: expected {_FORMS}, or {KEY_BYTES} raw bytes; "
                f"it has {len(data)} bytes"
            )
        return cls(secret, source)

    @classmethod
    def from_environment(cls, name: str, environ: Mapping[str, str] | None = None) -> EncryptionKey:
        """The key in environment variable ``name``; raises ``KeyFormatError`` if it is unset or not a key."""
        environ = os.environ if environ is None else environ
        text = environ.get(name)
        if text is None or not text.strip():
            raise KeyFormatError(f"the environment variable {name}, which should hold the encryption key, is not set")
        return cls.from_text(text, name)

    @property
    def aead(self) -> AESGCM:
        """The AES-256-GCM cipher of this key (``cryptography``'s), made on first use."""
        if self._aead is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(self._secret)
        return self._aead

    def same_key(self, other: EncryptionKey) -> bool:
        """True if ``other`` holds the same key bytes (compared in constant time)."""
        return hmac.compare_digest(self._secret, other._secret)

    @property
    def text_forms(self) -> tuple[str, ...]:
        """The key as the texts it may be written in, for a redactor to blank wherever one shows up."""
        return (
            base64.b64encode(self._secret).decode("ascii"),
            base64.urlsafe_b64encode(self._secret).decode("ascii").rstrip("="),
            self._secret.hex(),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EncryptionKey) and self.same_key(other)

    def __hash__(self) -> int:
        return hash(self.id_bytes)

    def __repr__(self) -> str:
        return f"EncryptionKey(id={self.id}, source={self.source!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self._secret, self.source)
