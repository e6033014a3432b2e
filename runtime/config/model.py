"""What a loaded config holds: frozen dataclasses for the host, its workers, namespaces and API tokens.

``load_config`` (``runtime.config.load``) builds them from kv.yaml, the environment and CLI flags;
nothing here reads a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .secrets import DEV_VARS_FILE, Secrets
from .yamlcache import ParseCache

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_PERSIST_TO",
    "ApiConfig",
    "KVBindingConfig",
    "KVNamespaceConfig",
    "RuntimeConfig",
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
    import_timeout: float = DEFAULT_IMPORT_TIMEOUT  # seconds a script's import may take (``--import-timeout``)
    header_timeout: float = DEFAULT_HEADER_TIMEOUT  # seconds for a request's head, and a pause in its body
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT  # seconds a kept-alive connection waits for its next request
    # Where the KV store lives, as ``bindings.storage.open_store`` takes it: built by ``load_config``
    # from the storage setting, persist_to and the engine's settings (``runtime.config.storage``).
    # Kept out of repr: a Redis URL may hold a password.
    storage: str = field(default=DEFAULT_PERSIST_TO, repr=False)
    require_durable: bool = False  # refuse to start on a store that can lose acknowledged writes
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    parse_cache: ParseCache | None = field(default=None, repr=False, compare=False)  # reused by reloads

    @property
    def hidden_values(self) -> tuple[str, ...]:
        """What no log line, page or response may show: the secrets' values and the API tokens."""
        return (*self.secrets.values(), *self.api.tokens, *self.api.read_tokens)

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
