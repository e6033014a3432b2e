"""Where the KV encryption key comes from: --kv-key-file, WORKERHOST_KV_KEY_FILE, kv.yaml's encryption."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bindings.errors import EncryptionError
from bindings.storage.encryption import EncryptionKey, new_key_text
from runtime.config import load_config
from runtime.config.encryption import explain
from runtime.config.redaction import Redactor
from runtime.errors import ConfigError

KEY = new_key_text()
OTHER = new_key_text()


def _config(tmp_path: Path, encryption: str = "") -> Path:
    (tmp_path / "kv.yaml").write_text(f"kv_namespaces:\n  - title: data\n{encryption}", encoding="utf-8")
    return tmp_path / "kv.yaml"


def _error(path: Path, environ: dict[str, str], **overrides: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ, overrides=overrides)
    return str(caught.value).replace(str(path), "kv.yaml")


def test_without_encryption_kv_data_is_stored_plain(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path), environ={}).encryption is None


def test_key_env_names_the_variable_holding_the_key(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "encryption:\n  key_env: MY_KV_KEY\n"), environ={"MY_KV_KEY": KEY})
    assert config.encryption == EncryptionKey.from_text(KEY, "x") and config.encryption.source == "MY_KV_KEY"
    # The key is blanked wherever text may show it, as secrets are.
    raw = base64.b64decode(KEY)
    redact = Redactor(config.hidden_values)
    for shown in (KEY, raw.hex(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        assert shown not in redact(f"a log line with {shown} in it")
    assert KEY not in repr(config)


def test_key_file_is_relative_to_kv_yaml_and_may_hold_raw_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "kv.key").write_bytes(base64.b64decode(KEY))
    monkeypatch.chdir("/")
    config = load_config(_config(tmp_path, "encryption: {key_file: secrets/kv.key}\n"), environ={})
    assert config.encryption == EncryptionKey.from_text(KEY, "x")


@pytest.mark.parametrize(
    ("block", "environ", "message"),
    [
        (
            "encryption:\n  key_env: MY_KV_KEY\n",
            {},
            "kv.yaml:4: encryption: the environment variable MY_KV_KEY, which should hold the encryption key, "
            "is not set",
        ),
        (
            "encryption:\n  key_env: MY_KV_KEY\n",
            {"MY_KV_KEY": "c2hvcnQ="},
            "kv.yaml:4: encryption: the encryption key in MY_KV_KEY is not a key: expected 32 bytes as base64 "
            "(44 characters, e.g. `openssl rand -base64 32`) or hex (64 digits), got 8 characters",
        ),
        (
            "encryption: {key_file: missing.key}\n",
            {},
            "kv.yaml:3: encryption: the encryption key file missing.key cannot be read: No such file or directory",
        ),
        (
            "encryption: {key_env: A, key_file: b}\n",
            {},
            "kv.yaml:3: encryption must name where the key is with exactly one of key_env (an environment variable "
            "holding it) or key_file (a file holding it, relative to kv.yaml), got key_env and key_file",
        ),
        (
            "encryption: {}\n",
            {},
            "kv.yaml:3: encryption must name where the key is with exactly one of key_env (an environment variable "
            "holding it) or key_file (a file holding it, relative to kv.yaml), got neither",
        ),
        (
            "encryption: {key: x}\n",
            {},
            "kv.yaml:3: encryption.key is not a known key; expected one of: key_env, key_file "
            '(did you mean "key_env"?)',
        ),
        ("encryption: {key_env: 3}\n", {}, "kv.yaml:3: encryption.key_env must be an environment variable name"),
    ],
)
def test_a_missing_or_malformed_key_is_a_config_error_naming_where(
    tmp_path: Path, block: str, environ: dict[str, str], message: str
) -> None:
    assert _error(_config(tmp_path, block), environ).startswith(message)


def test_a_key_that_is_not_a_key_is_never_shown(tmp_path: Path) -> None:
    almost = KEY[:-4] + "!!!!"
    assert almost not in _error(_config(tmp_path, "encryption: {key_env: K}\n"), {"K": almost})


def test_the_flag_then_the_environment_then_kv_yaml(tmp_path: Path) -> None:
    path = _config(tmp_path, "encryption: {key_env: K}\n")
    (tmp_path / "flag.key").write_text(KEY)
    (tmp_path / "env.key").write_text(OTHER)
    environ = {"K": new_key_text(), "WORKERHOST_KV_KEY_FILE": str(tmp_path / "env.key")}
    flagged = load_config(path, environ=environ, overrides={"kv_key_file": str(tmp_path / "flag.key")})
    assert flagged.encryption == EncryptionKey.from_text(KEY, "x")
    assert flagged.encryption.source == f"--kv-key-file {tmp_path / 'flag.key'}"
    assert load_config(path, environ=environ).encryption == EncryptionKey.from_text(OTHER, "x")
    assert load_config(path, environ={"K": KEY}).encryption == EncryptionKey.from_text(KEY, "x")
    message = _error(path, {"WORKERHOST_KV_KEY_FILE": str(tmp_path / "nope.key")})
    expected = f"the encryption key file WORKERHOST_KV_KEY_FILE ({tmp_path / 'nope.key'}) cannot be read"
    assert message.startswith(expected)


def test_a_wrangler_project_takes_the_key_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "entry.py").write_text("async def on_fetch(request, env): ...\n")
    (tmp_path / "wrangler.toml").write_text('name = "p"\nmain = "entry.py"\n')
    (tmp_path / "kv.key").write_text(KEY)
    environ = {"WORKERHOST_KV_KEY_FILE": str(tmp_path / "kv.key")}
    assert load_config(tmp_path / "wrangler.toml", environ=environ).encryption == EncryptionKey.from_text(KEY, "x")
    assert load_config(tmp_path / "wrangler.toml", environ={}).encryption is None


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("no key", "give its key with kv.yaml's encryption (key_env or key_file), --kv-key-file or"),
        ("wrong key", "give the key it was encrypted with; `workerhost kv rekey` moves a store to a new key"),
        ("plain data", "encrypt it first with `workerhost kv rekey`"),
        ("rekeying", "finish it by running `workerhost kv rekey` again with the same keys"),
    ],
)
def test_a_key_that_does_not_fit_the_store_is_explained_with_how_to_fix_it(reason: str, hint: str) -> None:
    assert explain(EncryptionError("the store says no", reason)).startswith(f"the store says no; {hint}")
