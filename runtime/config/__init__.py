"""The host's configuration: what kv.yaml or a wrangler config, the secret files, the environment and CLI
flags say, validated.

    model.py        the frozen dataclasses a loaded config is made of
    load.py         ``load_config``: the settings table, precedence (flag, env, config file, default), eager checks
    discovery.py    finding the config file here or in a parent folder, as wrangler does
    storage.py      the KV store's location string, from persist_to and the storage settings
    encryption.py   the key KV data is encrypted with at rest, and what to do when it does not fit the store
    schema.py       kv.yaml's schema: every key checked, errors naming file, line and key path
    wrangler.py     wrangler.jsonc/json/toml: [env.NAME] inheritance, KV ids, assets, bindings not emulated
    jsonc.py        JSON with comments, line-marked; tomlmarks.py: TOML, line-marked
    yamlmarks.py    YAML with line numbers, and the parse cache ``workerhost dev`` uses
    dotenv.py       ``.dev.vars`` and ``.env`` files, found and read as wrangler dev reads them
    secrets.py      secret values and redacting them
    redaction.py    blanking secrets and tokens out of text, in any escaped or encoded form
    packages.py     the pyproject.toml dependencies this Python lacks
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
