"""Encryption at rest with AES-256-GCM, above every engine: an engine stores sealed bytes (README "Encryption at rest").

    keys.py       ``EncryptionKey``: 32 bytes from base64 or hex text, or a key file; its public id
    envelope.py   how a value and its metadata are sealed and opened (``cryptography``'s AESGCM)
    record.py     the store's ``encryption`` setting: the key check, and a rekey under way
    namespace.py  ``EncryptedNamespace``: a namespace whose engine holds only sealed entries
    store.py      ``KeyedStore``: what ``open_store`` returns; checks the key against the store at first use
    rekey.py      sealing every entry with a new key, encrypting a plain store, or decrypting one

Nothing here imports ``cryptography`` until a key is used, so a store without one costs no import.
"""

from __future__ import annotations

from .keys import KEY_BYTES, EncryptionKey, KeyFormatError, new_key_text
from .store import KeyedStore, verify_store

__all__ = ["KEY_BYTES", "EncryptionKey", "KeyFormatError", "KeyedStore", "new_key_text", "verify_store"]
