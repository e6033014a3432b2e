"""The key that encrypts KV data at rest, and what to tell a user whose key does not fit the store.

The key comes from ``--kv-key-file FILE`` (``workerhost dev`` and ``workerhost kv``), else
``$WORKERHOST_KV_KEY_FILE``, else kv.yaml's ``encryption`` block: ``key_env`` names an environment
variable holding the key, ``key_file`` a file (relative to kv.yaml). A key is 32 bytes written as
base64 or hex; a file may also hold the 32 raw bytes. Without any of them, KV data is stored plain.
The key is read when the config loads, so a missing or malformed one is a config error naming where
it should have come from; whether it fits the store is checked when the store is first opened
(``bindings.storage.encryption.verify_store``), and ``explain`` says what to do when it does not.

The key is read from the process environment, not from ``.dev.vars``: those values are the workers'
``env``, and the key is the host's alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bindings.errors import EncryptionError
from bindings.storage.encryption import EncryptionKey, KeyFormatError

from ..errors import ConfigError

__all__ = ["KEY_FILE_ENV", "EncryptionSetting", "explain", "resolve_key"]

KEY_FILE_ENV = "WORKERHOST_KV_KEY_FILE"
_README = 'README "Encryption at rest"'
_HOW_TO_GIVE = (
    "give its key with kv.yaml's encryption (key_env or key_file), --kv-key-file or WORKERHOST_KV_KEY_FILE"
)
_HINTS = {
    "no key": f"{_HOW_TO_GIVE} ({_README})",
    "wrong key": f"give the key it was encrypted with; `workerhost kv rekey` moves a store to a new key ({_README})",
    "plain data": f"encrypt it first with `workerhost kv rekey` ({_README})",
    "rekeying": f"finish it by running `workerhost kv rekey` again with the same keys ({_README})",
}


@dataclass(frozen=True)
class EncryptionSetting:
    """kv.yaml's ``encryption`` block as written: one of ``key_env`` or ``key_file``, and the line."""

    key_env: str | None = None
    key_file: str | None = None
    line: int = 0


def resolve_key(
    setting: EncryptionSetting | None,
    key_file_flag: str | None,
    environ: Mapping[str, str],
    *,
    source: str,
    base: Path,
) -> EncryptionKey | None:
    """The key the flag, the environment or kv.yaml gives (in that order), or None for none.

    Args:
        setting: kv.yaml's ``encryption`` block, if it has one.
        key_file_flag: ``--kv-key-file``, if given.
        source: the config file as named, for messages; ``base``: what kv.yaml's relative paths are relative to.

    Raises:
        ConfigError: the key named cannot be read or is not a key (the message never shows it).
    """
    try:
        if key_file_flag:
            return EncryptionKey.from_file(Path(key_file_flag).absolute(), f"--kv-key-file {key_file_flag}")
        from_env = environ.get(KEY_FILE_ENV, "").strip()
        if from_env:
            return EncryptionKey.from_file(Path(from_env).absolute(), f"{KEY_FILE_ENV} ({from_env})")
    except KeyFormatError as exc:
        raise ConfigError(str(exc)) from None
    if setting is None:
        return None
    where = f"{source}:{setting.line}: encryption"
    try:
        if setting.key_env is not None:
            return EncryptionKey.from_environment(setting.key_env, environ)
        assert setting.key_file is not None
        return EncryptionKey.from_file((base / setting.key_file).absolute(), setting.key_file)
    except KeyFormatError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def explain(exc: EncryptionError) -> str:
    """The error's message and how to fix it."""
    hint = _HINTS.get(exc.reason)
    return str(exc) if hint is None else f"{exc}; {hint}"
