"""What a loaded config holds: frozen dataclasses for the host, its workers, namespaces and API tokens.

``load_config`` (``runtime.config.load``) builds them from kv.yaml or a wrangler config, the secret
files, the environment and CLI flags; nothing here reads a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bindings.fidelity import FidelitySettings
from bindings.storage.encryption import EncryptionKey

from .secrets import DEV_VARS_FILE, Secrets
from .yamlcache import ParseCache

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_PERSIST_TO",
    "HTML_HANDLING",
    "NOT_FOUND_HANDLING",
    "ApiConfig",
    "AssetsConfig",
    "KVBindingConfig",
    "KVNamespaceConfig",
    "RuntimeConfig",
    "UnavailableBinding",
    "WorkerConfig",
]

DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_CONFIG_FILE = "kv.yaml"
DEFAULT_PERSIST_TO = ".workerhost"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_PROCESSES = 64
DEFAULT_TOKENS_ENV = "WORKERHOST_API_TOKENS"
DEFAULT_READ_TOKENS_ENV = "WORKERHOST_API_READ_TOKENS"
# Seconds a script's module-level code may run at a load. Cloudflare gives a Worker's startup 1 s of
# CPU; a dev host also imports heavy libraries cold on a busy laptop, so ten times that, as AWS Lambda
# gives its init phase. It never fires on a working script and reports a hung one within seconds.
DEFAULT_IMPORT_TIMEOUT = 10.0
# Seconds a client gets to send a request's line and headers (counted from connecting, or from the
# request's first byte), and may pause in the middle of its body: Apache's defaults (mod_reqtimeout
# header=20, body=20). nginx and Node allow 60 s; real clients send a head in one write, so 20 s only
# shortens how long a silent or stuck client holds a connection.
DEFAULT_HEADER_TIMEOUT = 20.0
# Seconds a kept-alive connection may wait for its next request: uvicorn's, Apache's and Node's default.
DEFAULT_IDLE_TIMEOUT = 5.0

# https://developers.cloudflare.com/workers/static-assets/routing/ (the first of each is the default)
HTML_HANDLING = ("auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none")
NOT_FOUND_HANDLING = ("none", "single-page-application", "404-page")


@dataclass(frozen=True)
class KVNamespaceConfig:
    """A namespace kv.yaml declares; created at start if missing."""

    title: str
    id: str | None = None
    line: int = 0
    # Its own production-fidelity modes (the top-level ones with its block's applied); None: the top-level ones.
    fidelity: FidelitySettings | None = None


@dataclass(frozen=True)
class KVBindingConfig:
    """``env.<binding>`` of a worker: the declared namespace it names (by title or id).

    A wrangler binding names its namespace by ``id`` and ``preview_id`` (any strings); ``workerhost dev``
    binds ``preview_id``'s namespace when there is one, else ``id``'s, as ``wrangler dev`` does, and
    ``by_id``/``by_preview_id`` let ``workerhost kv --preview`` choose as ``wrangler kv`` does.
    """

    binding: str
    namespace: str  # as written in the config
    title: str  # of the declared namespace it refers to
    namespace_id: str | None  # the declared id, if the declaration gives one
    line: int = 0
    by_id: KVNamespaceConfig | None = None
    by_preview_id: KVNamespaceConfig | None = None


@dataclass(frozen=True)
class AssetsConfig:
    """A worker's static assets, served before the worker as Cloudflare serves them."""

    directory: Path  # absolute
    directory_display: str  # as written in the config
    binding: str | None = None  # env.ASSETS, to fetch assets from the worker
    run_worker_first: bool | tuple[str, ...] = False  # or route patterns, "!" excluding
    html_handling: str = HTML_HANDLING[0]
    not_found_handling: str = NOT_FOUND_HANDLING[0]
    line: int = 0


@dataclass(frozen=True)
class UnavailableBinding:
    """A binding the config declares that workerhost does not emulate (D1, R2, Durable Objects, ...)."""

    name: str
    kind: str  # "D1 database", "R2 bucket", ...
    line: int = 0


@dataclass(frozen=True)
class WorkerConfig:
    """One worker: a handler script (or only assets) with its routes, bindings, vars and cron triggers."""

    name: str
    script: Path | None  # absolute; None for a worker of static assets only
    script_display: str  # as written in the config, for messages
    routes: tuple[str, ...]
    kv_namespaces: tuple[KVBindingConfig, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    crons: tuple[str, ...] = ()
    line: int = 0
    assets: AssetsConfig | None = None
    unavailable: tuple[UnavailableBinding, ...] = ()
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiConfig:
    """REST API auth: the tokens found in the environment variables kv.yaml names (never in the file)."""

    tokens_env: str = DEFAULT_TOKENS_ENV
    read_tokens_env: str = DEFAULT_READ_TOKENS_ENV
    tokens: frozenset[str] = field(default=frozenset(), repr=False)
    read_tokens: frozenset[str] = field(default=frozenset(), repr=False)
    rate_limit: bool = False  # Cloudflare's 1,200 requests per 5 minutes per user (fidelity.api_rate_limit)

    @property
    def open(self) -> bool:
        """True when no token is configured: the API then answers anyone (allowed on loopback only)."""
        return not self.tokens and not self.read_tokens


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything the host needs, resolved and validated. Build it with ``load_config``."""

    path: Path  # absolute path of the config file (kv.yaml, wrangler.jsonc, wrangler.json or wrangler.toml)
    source: str  # the config file as the user named it (or as it was found), for messages
    account_id: str = DEFAULT_ACCOUNT_ID
    persist_to: Path = Path(DEFAULT_PERSIST_TO)
    kv_namespaces: tuple[KVNamespaceConfig, ...] = ()
    workers: tuple[WorkerConfig, ...] = ()
    api: ApiConfig = ApiConfig()
    fidelity: FidelitySettings = FidelitySettings()  # every namespace's modes, unless it has its own
    secrets: Secrets = field(default_factory=Secrets)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    processes: int = 1  # server processes sharing the listening socket (``--workers``)
    reload: bool = True
    import_timeout: float = DEFAULT_IMPORT_TIMEOUT  # seconds a script's import may take (``--import-timeout``)
    header_timeout: float = DEFAULT_HEADER_TIMEOUT  # seconds for a request's head, and a pause in its body
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # seconds a kept-alive connection waits for its next request
    # Where the KV store lives, as ``bindings.storage.open_store`` takes it: built by ``load_config``
    # from the storage setting, persist_to and the engine's settings (``runtime.config.storage``).
    # Kept out of repr: a Redis URL may hold a password.
    storage: str = field(default=DEFAULT_PERSIST_TO, repr=False)
    require_durable: bool = False  # refuse to start on a store that can lose acknowledged writes
    # The key KV data is encrypted with at rest (``runtime.config.encryption``); None stores it plain.
    encryption: EncryptionKey | None = None
    sweep_interval: float = 60.0  # seconds between expiry sweeps (``WORKERHOST_SWEEP_INTERVAL``)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    parse_cache: ParseCache | None = field(default=None, repr=False, compare=False)  # reused by reloads
    env: str | None = None  # the wrangler environment chosen with --env
    warnings: tuple[str, ...] = ()  # said once at start: keys not understood, bindings not emulated
    secret_files: tuple[Path, ...] = ()  # every file secrets may come from, existing or not (watched)

    @property
    def hidden_values(self) -> tuple[str, ...]:
        """What no log line, page or response may show: the secrets' values, the API tokens, the KV key."""
        key = () if self.encryption is None else self.encryption.text_forms
        return (*self.secrets.values(), *self.api.tokens, *self.api.read_tokens, *key)

    @property
    def dev_vars_path(self) -> Path:
        """The usual place of secrets: ``.dev.vars`` beside the config file."""
        return self.path.parent / DEV_VARS_FILE

    @property
    def watched_files(self) -> frozenset[Path]:
        """The config file and every file secrets may come from: a change to any of them reloads."""
        return frozenset({self.path, self.dev_vars_path, *self.secret_files})

    def worker(self, name: str) -> WorkerConfig:
        """The worker called ``name``; KeyError if there is none."""
        for worker in self.workers:
            if worker.name == name:
                return worker
        raise KeyError(name)
