"""The host's configuration: what kv.yaml, ``.dev.vars``, the environment and CLI flags say, validated.

    model.py        the frozen dataclasses a loaded config is made of
    load.py         ``load_config``: the settings table, precedence (flag, env, kv.yaml, default), eager checks
    storage.py      the KV store's location string, from persist_to and the storage settings
    schema.py       kv.yaml's schema: every key checked, errors naming file, line and key path
    yamlmarks.py    YAML with line numbers, and the parse cache ``workerhost dev`` uses
    secrets.py      ``.dev.vars`` and redacting secret values
    redaction.py    blanking secrets and tokens out of text, in any escaped or encoded form
    cron.py         cron expressions
    routes.py       route patterns
    namespaces.py   the namespaces kv.yaml declares, found or created in a store

Nothing here imports handler code, Starlette or uvicorn.
"""

from __future__ import annotations

from .load import SETTINGS, Setting, load_config, reload_config, resolve_setting, setting_given
from .model import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_CONFIG_FILE,
    DEFAULT_PERSIST_TO,
    ApiConfig,
    KVBindingConfig,
    KVNamespaceConfig,
    RuntimeConfig,
    WorkerConfig,
)

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_PERSIST_TO",
    "SETTINGS",
    "ApiConfig",
    "KVBindingConfig",
    "KVNamespaceConfig",
    "RuntimeConfig",
    "Setting",
    "WorkerConfig",
    "load_config",
    "reload_config",
    "resolve_setting",
    "setting_given",
]
