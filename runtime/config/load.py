"""The host's configuration: kv.yaml or a wrangler config, secret files, environment variables and CLI
flags, validated eagerly.

``load_config`` reads everything and checks it all before anything starts, so a typo is reported
at once with the file, the line and the key path, e.g.
``kv.yaml:12: workers[0].kv_namespaces[1].binding must be a string, got 3``. It imports no handler
code: loading scripts is ``runtime.handlers.loader``'s job.

The config file is ``--config``, else ``$WORKERHOST_CONFIG``, else the first of kv.yaml,
wrangler.jsonc, wrangler.json and wrangler.toml found in the working directory or the nearest parent
that has one, as wrangler looks (``discovery.py``). Precedence for each setting: CLI flag, then
environment variable, then the config file, then default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bindings.digits import whole_number
from bindings.storage.sqlite.location import MAX_PAGES

from ..errors import ConfigError
from .discovery import CONFIG_FILES, find_config
from .dotenv import FileSecrets, read_secrets, secret_files
from .encryption import resolve_key
from .model import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CONFIG_FILE,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_HOST,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_IMPORT_TIMEOUT,
    DEFAULT_PERSIST_TO,
    DEFAULT_PORT,
    DEFAULT_READ_TOKENS_ENV,
    DEFAULT_TOKENS_ENV,
    MAX_PROCESSES,
    ApiConfig,
    RuntimeConfig,
    WorkerConfig,
)
from .schema import Document, read_document
from .storage import StorageChoice, resolve_storage, sweep_interval
from .wrangler import read_wrangler
from .yamlcache import ParseCache

__all__ = ["SETTINGS", "Setting", "load_config", "reload_config", "resolve_setting", "setting_given"]


@dataclass(frozen=True)
class Setting:
    """A setting of ``workerhost dev``: its CLI flag, environment variable, default and help."""

    name: str
    flag: str
    env: str
    default: Any
    help: str


SETTINGS = (
    Setting(
        "config",
        "--config",
        "WORKERHOST_CONFIG",
        None,
        f"the config file (default: {DEFAULT_CONFIG_FILE}, wrangler.jsonc, wrangler.json or wrangler.toml, "
        "in this folder or the nearest parent that has one)",
    ),
    Setting(
        "env", "--env", "WORKERHOST_ENV", None, "the wrangler environment to use ([env.NAME] and its secret files)"
    ),
    Setting("host", "--host", "WORKERHOST_HOST", DEFAULT_HOST, "the address to listen on"),
    Setting("port", "--port", "WORKERHOST_PORT", DEFAULT_PORT, "the port to listen on (0 picks a free one)"),
    Setting(
        "persist_to",
        "--persist-to",
        "WORKERHOST_PERSIST_TO",
        None,
        f"where KV data lives (default: kv.yaml's persist_to, else {DEFAULT_PERSIST_TO} beside kv.yaml)",
    ),
    Setting(
        "storage",
        "--storage",
        "WORKERHOST_STORAGE",
        None,
        "where KV data lives: a directory, or a URL such as redis://host:6379/0 for one state shared by "
        "many hosts (default: kv.yaml's storage, else SQLite in the persist directory)",
    ),
    Setting(
        "kv_key_file",
        "--kv-key-file",
        "WORKERHOST_KV_KEY_FILE",
        None,
        "a file holding the key that encrypts KV data at rest (32 bytes as base64 or hex); over kv.yaml's "
        "encryption (default: kv.yaml's encryption, else KV data is stored unencrypted)",
    ),
    Setting(
        "processes",
        "--workers",
        "WORKERHOST_WORKERS",
        1,
        "serve with this many processes sharing the port and the KV data (more than 1 turns hot reload off)",
    ),
    Setting("no_reload", "--no-reload", "WORKERHOST_NO_RELOAD", False, "do not watch files and hot-reload"),
    Setting(
        "max_db_pages",
        "--max-db-pages",
        "WORKERHOST_MAX_DB_PAGES",
        None,
        "cap each KV database file at this many 4 KiB pages, to see how handlers cope with a full disk",
    ),
    Setting(
        "import_timeout",
        "--import-timeout",
        "WORKERHOST_IMPORT_TIMEOUT",
        DEFAULT_IMPORT_TIMEOUT,
        "seconds a script's module-level code may run when it is loaded, at start and at each reload",
    ),
    Setting(
        "header_timeout",
        "--header-timeout",
        "WORKERHOST_HEADER_TIMEOUT",
        DEFAULT_HEADER_TIMEOUT,
        "seconds a client gets to send a request's headers, and may pause while sending its body",
    ),
    Setting(
        "idle_timeout",
        "--idle-timeout",
        "WORKERHOST_IDLE_TIMEOUT",
        DEFAULT_IDLE_TIMEOUT,
        "seconds a kept-alive connection may wait for its next request",
    ),
    Setting(
        "require_durable",
        "--require-durable",
        "WORKERHOST_REQUIRE_DURABLE",
        False,
        "refuse to start unless the KV store keeps every acknowledged write through a crash "
        "(Redis: appendonly yes, appendfsync always)",
    ),
)
_SETTINGS = {setting.name: setting for setting in SETTINGS}
_SHOWN_LIMIT = 40


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    parse_cache: ParseCache | None = None,
) -> RuntimeConfig:
    """Read and validate the config file (plus the secret files beside it, and the environment).

    Args:
        path: the config file; by default ``overrides["config"]``, then ``$WORKERHOST_CONFIG``, then the
            one found in the working directory or its parents (``find_config``).
        environ: the environment to read ``WORKERHOST_*`` settings and API tokens from (default ``os.environ``).
        overrides: CLI flags by setting name (``host``, ``port``, ``persist_to``, ``storage``, ``processes``,
            ``no_reload``, ``max_db_pages``, ``require_durable``, ``import_timeout``, ``header_timeout``,
            ``idle_timeout``, ``kv_key_file``, ``config``, ``env``); None means the flag was not given.
        parse_cache: where parsed kv.yaml documents are kept (``workerhost dev`` passes one, so an
            unchanged file loads without PyYAML); reloads of the returned config use it too.

    Raises:
        ConfigError: naming the file, the line and the key path of the first problem found.
    """
    environ = os.environ if environ is None else environ
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    if path is None:
        path = setting_given("config", overrides, environ) or None
    if path is None:
        found = find_config(Path.cwd())
        if found is None:
            raise ConfigError(
                f"no config file found: looked for {', '.join(CONFIG_FILES)} in {Path.cwd()} and its parents; "
                "pass --config or set WORKERHOST_CONFIG"
            )
        path = found
    source = os.fspath(path)
    return _load(Path(os.path.abspath(source)), source, environ, overrides, parse_cache)


def reload_config(config: RuntimeConfig) -> RuntimeConfig:
    """Read the config and secret files again, with the environment and CLI flags ``config`` was loaded with."""
    return _load(config.path, config.source, config.environ, config.overrides, config.parse_cache)


def _read_config(text: str, source: str, path: Path, env: str | None, cache: ParseCache | None) -> Document:
    if path.name.startswith("wrangler.") or path.suffix in (".toml", ".json", ".jsonc"):
        return read_wrangler(text, source, path.parent, env)
    return read_document(text, source, path.parent, cache)


def _load(
    path: Path, source: str, environ: Mapping[str, str], overrides: Mapping[str, Any], cache: ParseCache | None
) -> RuntimeConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: not found (looked for {path}); pass --config or set WORKERHOST_CONFIG") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot be read: {exc}") from None

    env = setting_given("env", overrides, environ) or None
    document = _read_config(text, source, path, env, cache)
    secrets = read_secrets(path.parent, env, environ, source)
    workers = _apply_secrets(document.workers, secrets, source)
    persist_to = _persist_to(document.persist_to, path.parent, overrides, environ)
    host = setting_given("host", overrides, environ) or document.dev_host or _SETTINGS["host"].default
    port = setting_given("port", overrides, environ)
    port = port if port is not None else (document.dev_port if document.dev_port is not None else DEFAULT_PORT)
    persist_given = document.persist_to is not None or resolve_setting("persist_to", overrides, environ) is not None
    storage, persist_to = resolve_storage(
        _storage_choice(document, source, path.parent, overrides, environ),
        persist_to,
        environ,
        persist_to_given=persist_given,
        max_db_pages=_max_db_pages(resolve_setting("max_db_pages", overrides, environ)),
    )
    return RuntimeConfig(
        path=path,
        source=source,
        account_id=document.account_id or DEFAULT_ACCOUNT_ID,
        persist_to=persist_to,
        kv_namespaces=document.kv_namespaces,
        workers=workers,
        api=_api(document.tokens_env, document.read_tokens_env, environ, document.api_rate_limit),
        fidelity=document.fidelity,
        secrets=secrets,
        host=str(host),
        port=_port(port),
        processes=_processes(resolve_setting("processes", overrides, environ)),
        reload=not _flag(resolve_setting("no_reload", overrides, environ), _SETTINGS["no_reload"].env),
        import_timeout=_seconds("import_timeout", overrides, environ),
        header_timeout=_seconds("header_timeout", overrides, environ),
        idle_timeout=_seconds("idle_timeout", overrides, environ),
        storage=storage,
        encryption=resolve_key(
            document.encryption, overrides.get("kv_key_file"), environ, source=source, base=path.parent
        ),
        require_durable=_flag(resolve_setting("require_durable", overrides, environ), _SETTINGS["require_durable"].env),
        sweep_interval=sweep_interval(environ),
        environ=environ,
        overrides=MappingProxyType(dict(overrides)),
        parse_cache=cache,
        env=env,
        warnings=document.warnings,
        secret_files=secret_files(path.parent, env),
    )


def setting_given(name: str, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    """What the CLI flag (``overrides[name]``, None meaning not given) or else the environment variable
    of setting ``name`` says; None if neither gives it."""
    value = overrides.get(name)
    if value is not None:
        return value
    return environ.get(_SETTINGS[name].env)


def resolve_setting(name: str, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    """Setting ``name``'s value: its CLI flag, else its environment variable, else its default."""
    value = setting_given(name, overrides, environ)
    return _SETTINGS[name].default if value is None else value


def _persist_to(from_file: str | None, base: Path, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> Path:
    # Flags and environment variables are relative to the working directory; kv.yaml's value to kv.yaml.
    chosen = resolve_setting("persist_to", overrides, environ)
    if chosen is not None:
        return Path(chosen).absolute()
    return (base / (from_file or DEFAULT_PERSIST_TO)).absolute()


def _storage_choice(
    document: Document, source: str, base: Path, overrides: Mapping[str, Any], environ: Mapping[str, str]
) -> StorageChoice | None:
    # A flag or an environment variable is relative to the working directory; kv.yaml's value to kv.yaml.
    if overrides.get("storage") is not None:
        return StorageChoice(str(overrides["storage"]), "--storage", Path.cwd())
    setting = _SETTINGS["storage"]
    if environ.get(setting.env) is not None:
        return StorageChoice(environ[setting.env], setting.env, Path.cwd())
    if document.storage is not None:
        return StorageChoice(document.storage, f"{source}:{document.storage_line}: storage", base)
    return None


def _port(value: Any) -> int:
    port = whole_number(str(value), 0, 65535)
    if port is None:
        raise ConfigError(f"port must be a number from 0 to 65535, got {_shown(value)}")
    return port


def _processes(value: Any) -> int:
    processes = whole_number(str(value), 1, MAX_PROCESSES)
    if processes is None:
        raise ConfigError(f"--workers must be a number from 1 to {MAX_PROCESSES}, got {_shown(value)}")
    return processes


def _max_db_pages(value: Any) -> int | None:
    if value is None:
        return None
    pages = whole_number(str(value), 1, MAX_PAGES)
    if pages is None:
        env = _SETTINGS["max_db_pages"].env
        raise ConfigError(f"{env} must be a whole number of pages from 1 to {MAX_PAGES}, got {_shown(value)}")
    return pages


def _shown(value: Any) -> str:
    # The value as typed, cut short: a flag of 5,000 digits need not come back whole.
    text = repr(value)
    return text if len(text) <= _SHOWN_LIMIT else text[: _SHOWN_LIMIT - 4] + "...'"


def _seconds(name: str, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> float:
    value = resolve_setting(name, overrides, environ)
    try:
        seconds = float(str(value).strip())
    except ValueError:
        seconds = math.nan
    if not (0 < seconds < math.inf):
        setting = _SETTINGS[name]
        raise ConfigError(f"{setting.flag} ({setting.env}) must be a number of seconds above 0, got {value!r}")
    return seconds


def _flag(value: Any, env: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{env} must be true or false (1/0, yes/no, on/off), got {value!r}")


def _api(
    tokens_env: str | None, read_tokens_env: str | None, environ: Mapping[str, str], rate_limit: bool
) -> ApiConfig:
    tokens_env = tokens_env or DEFAULT_TOKENS_ENV
    read_tokens_env = read_tokens_env or DEFAULT_READ_TOKENS_ENV
    tokens = _tokens(environ.get(tokens_env, ""))
    read_tokens = _tokens(environ.get(read_tokens_env, "")) - tokens
    return ApiConfig(tokens_env, read_tokens_env, tokens, read_tokens, rate_limit)


def _tokens(text: str) -> frozenset[str]:
    return frozenset(token.strip() for token in text.split(",") if token.strip())


def _apply_secrets(workers: tuple[WorkerConfig, ...], secrets: FileSecrets, source: str) -> tuple[WorkerConfig, ...]:
    # A secret may override a var of the same name (as wrangler's .dev.vars does) but not a binding.
    for worker in workers:
        taken = [(binding.binding, "KV binding", binding.line) for binding in worker.kv_namespaces]
        if worker.assets is not None and worker.assets.binding is not None:
            taken.append((worker.assets.binding, "assets binding", worker.assets.line))
        taken += [(missing.name, f"{missing.kind} binding", missing.line) for missing in worker.unavailable]
        for name, kind, line in taken:
            if name in secrets:
                raise ConfigError(
                    f"{secrets.where(name)}: {name} is also the {kind} of worker "
                    f'"{worker.name}" ({source}:{line}); expected secret names that differ from binding names'
                )
    return workers
