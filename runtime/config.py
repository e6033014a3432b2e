"""The host's configuration: kv.yaml, .dev.vars, environment variables and CLI flags, validated eagerly.

``load_config`` reads everything and checks it all before anything starts, so a typo is reported
at once with the file, the line and the key path, e.g.
``kv.yaml:12: workers[0].kv_namespaces[1].binding must be a string, got 3``. It imports no handler
code: loading scripts is ``runtime.loader``'s job.

Precedence for each setting: CLI flag, then environment variable, then kv.yaml, then default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import ConfigError
from .secrets import DEV_VARS_FILE, Secrets, read_dev_vars

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "SETTINGS",
    "ApiConfig",
    "KVBindingConfig",
    "KVNamespaceConfig",
    "RuntimeConfig",
    "Setting",
    "WorkerConfig",
    "load_config",
]

DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_CONFIG_FILE = "kv.yaml"
DEFAULT_PERSIST_TO = ".workerhost"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_PROCESSES = 64
DEFAULT_TOKENS_ENV = "WORKERHOST_API_TOKENS"
DEFAULT_READ_TOKENS_ENV = "WORKERHOST_API_READ_TOKENS"


@dataclass(frozen=True)
class Setting:
    """A setting of ``workerhost dev``: its CLI flag, environment variable, default and help."""

    name: str
    flag: str
    env: str
    default: Any
    help: str


SETTINGS = (
    Setting("config", "--config", "WORKERHOST_CONFIG", DEFAULT_CONFIG_FILE, "the config file"),
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
)
_SETTINGS = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class KVNamespaceConfig:
    """A namespace kv.yaml declares; created at start if missing."""

    title: str
    id: str | None = None
    line: int = 0


@dataclass(frozen=True)
class KVBindingConfig:
    """``env.<binding>`` of a worker: the declared namespace it names (by title or id)."""

    binding: str
    namespace: str  # as written in kv.yaml
    title: str  # of the declared namespace it refers to
    namespace_id: str | None  # the declared id, if the declaration gives one
    line: int = 0


@dataclass(frozen=True)
class WorkerConfig:
    """One worker: a handler script with its routes, bindings, vars and cron triggers."""

    name: str
    script: Path  # absolute
    script_display: str  # as written in kv.yaml, for messages
    routes: tuple[str, ...]
    kv_namespaces: tuple[KVBindingConfig, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    crons: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class ApiConfig:
    """REST API auth: the tokens found in the environment variables kv.yaml names (never in the file)."""

    tokens_env: str = DEFAULT_TOKENS_ENV
    read_tokens_env: str = DEFAULT_READ_TOKENS_ENV
    tokens: frozenset[str] = field(default=frozenset(), repr=False)
    read_tokens: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def open(self) -> bool:
        """True when no token is configured: the API then answers anyone (allowed on loopback only)."""
        return not self.tokens and not self.read_tokens


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything the host needs, resolved and validated. Build it with ``load_config``."""

    path: Path  # absolute path of kv.yaml
    source: str  # kv.yaml as the user named it, for messages
    account_id: str = DEFAULT_ACCOUNT_ID
    persist_to: Path = Path(DEFAULT_PERSIST_TO)
    kv_namespaces: tuple[KVNamespaceConfig, ...] = ()
    workers: tuple[WorkerConfig, ...] = ()
    api: ApiConfig = ApiConfig()
    secrets: Secrets = field(default_factory=Secrets)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    processes: int = 1  # server processes sharing the listening socket (``--workers``)
    reload: bool = True
    max_db_pages: int | None = None  # a cap on each database file, for trying out a full disk
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dev_vars_path(self) -> Path:
        """Where secrets are read from: ``.dev.vars`` beside kv.yaml."""
        return self.path.parent / DEV_VARS_FILE

    def worker(self, name: str) -> WorkerConfig:
        """The worker called ``name``; KeyError if there is none."""
        for worker in self.workers:
            if worker.name == name:
                return worker
        raise KeyError(name)

    def reloaded(self) -> RuntimeConfig:
        """Read kv.yaml and .dev.vars again, with the same environment and CLI flags."""
        return _load(self.path, self.source, self.environ, self.overrides)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> RuntimeConfig:
    """Read and validate kv.yaml (plus ``.dev.vars`` beside it, and the environment).

    Args:
        path: the config file; by default ``overrides["config"]``, then ``$WORKERHOST_CONFIG``, then ``kv.yaml``.
        environ: the environment to read ``WORKERHOST_*`` settings and API tokens from (default ``os.environ``).
        overrides: CLI flags by setting name (``host``, ``port``, ``persist_to``, ``processes``, ``no_reload``,
            ``config``); a value of None means the flag was not given.

    Raises:
        ConfigError: naming the file, the line and the key path of the first problem found.
    """
    environ = os.environ if environ is None else environ
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    if path is None:
        path = _resolve("config", overrides, environ)
    source = os.fspath(path)
    return _load(Path(source).absolute(), source, environ, overrides)


def _load(path: Path, source: str, environ: Mapping[str, str], overrides: Mapping[str, Any]) -> RuntimeConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: not found (looked for {path}); pass --config or set WORKERHOST_CONFIG") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot be read: {exc}") from None
    from .config_schema import read_document  # it builds this module's dataclasses

    document = read_document(text, source, path.parent)
    secrets = read_dev_vars(path.parent / DEV_VARS_FILE, _sibling_display(source, DEV_VARS_FILE))
    workers = _apply_secrets(document.workers, secrets, source)
    return RuntimeConfig(
        path=path,
        source=source,
        account_id=document.account_id or DEFAULT_ACCOUNT_ID,
        persist_to=_persist_to(document.persist_to, path.parent, overrides, environ),
        kv_namespaces=document.kv_namespaces,
        workers=workers,
        api=_api(document.tokens_env, document.read_tokens_env, environ),
        secrets=secrets,
        host=str(_resolve("host", overrides, environ)),
        port=_port(_resolve("port", overrides, environ)),
        processes=_processes(_resolve("processes", overrides, environ)),
        reload=not _flag(_resolve("no_reload", overrides, environ), _SETTINGS["no_reload"].env),
        max_db_pages=_max_db_pages(_resolve("max_db_pages", overrides, environ)),
        environ=environ,
        overrides=MappingProxyType(dict(overrides)),
    )


def _resolve(name: str, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> Any:
    setting = _SETTINGS[name]
    if name in overrides:
        return overrides[name]
    if setting.env in environ:
        return environ[setting.env]
    return setting.default


def _persist_to(from_file: str | None, base: Path, overrides: Mapping[str, Any], environ: Mapping[str, str]) -> Path:
    # Flags and environment variables are relative to the working directory; kv.yaml's value to kv.yaml.
    chosen = _resolve("persist_to", overrides, environ)
    if chosen is not None:
        return Path(chosen).absolute()
    return (base / (from_file or DEFAULT_PERSIST_TO)).absolute()


def _port(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ConfigError(f"port must be a number from 0 to 65535, got {value!r}")
    return int(text)


def _processes(value: Any) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PROCESSES:
        raise ConfigError(f"--workers must be a number from 1 to {MAX_PROCESSES}, got {value!r}")
    return int(text)


def _max_db_pages(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        env = _SETTINGS["max_db_pages"].env
        raise ConfigError(f"{env} must be a whole number of pages (at least 1), got {value!r}")
    return int(text)


def _flag(value: Any, env: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"{env} must be true or false (1/0, yes/no, on/off), got {value!r}")


def _api(tokens_env: str | None, read_tokens_env: str | None, environ: Mapping[str, str]) -> ApiConfig:
    tokens_env = tokens_env or DEFAULT_TOKENS_ENV
    read_tokens_env = read_tokens_env or DEFAULT_READ_TOKENS_ENV
    tokens = _tokens(environ.get(tokens_env, ""))
    return ApiConfig(tokens_env, read_tokens_env, tokens, _tokens(environ.get(read_tokens_env, "")) - tokens)


def _tokens(text: str) -> frozenset[str]:
    return frozenset(token.strip() for token in text.split(",") if token.strip())


def _sibling_display(source: str, name: str) -> str:
    parent = os.path.dirname(source)
    return os.path.join(parent, name) if parent else name


def _apply_secrets(workers: tuple[WorkerConfig, ...], secrets: Secrets, source: str) -> tuple[WorkerConfig, ...]:
    # A secret may override a var of the same name (as wrangler's .dev.vars does) but not a KV binding.
    for worker in workers:
        for binding in worker.kv_namespaces:
            if binding.binding in secrets:
                raise ConfigError(
                    f"{secrets.source}:{secrets.lines[binding.binding]}: {binding.binding} is also the KV binding "
                    f'of worker "{worker.name}" ({source}:{binding.line}); expected secret names that differ '
                    "from binding names"
                )
    return workers
