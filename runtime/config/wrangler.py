"""wrangler configs (``wrangler.jsonc``, ``wrangler.json``, ``wrangler.toml``) read as wrangler reads them.

One worker comes out, in the same ``Document`` shape kv.yaml gives (README "Bring a Cloudflare
project"): ``name``, ``main``, ``vars``, ``triggers.crons``, ``kv_namespaces`` (``binding``, ``id``,
``preview_id``), ``assets``, ``compatibility_date``/``compatibility_flags`` and ``dev.ip``/``dev.port``
are read; ``[env.NAME]`` (``--env NAME``) is applied with wrangler's inheritance rules
(https://developers.cloudflare.com/workers/wrangler/environments/): ``name`` becomes ``<name>-<env>``,
``main``, ``triggers``, ``assets`` and the compatibility settings are inherited, ``vars`` and every
binding are not. Bindings workerhost does not emulate (D1, R2, Durable Objects, Queues, AI, ...) are
listed so the worker can say so when one is touched. Keys wrangler knows that mean nothing locally
are accepted; keys nobody knows give a warning (with a "did you mean"), as wrangler warns.

A KV ``id`` is any string (``<YOUR_KV_NAMESPACE_ID>`` in Cloudflare's examples): it names a local
namespace whose title is that string and whose id is derived from it (``local_namespace``), so the
same config finds the same data every time, from ``workerhost dev``, ``workerhost kv`` and the REST API.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bindings.catalog import MAX_TITLE_LENGTH, is_namespace_id
from bindings.fidelity import FidelitySettings

from ..errors import ConfigError
from .jsonc import JsoncError, parse_jsonc
from .model import KVBindingConfig, KVNamespaceConfig, UnavailableBinding, WorkerConfig
from .schema import Document, _describe, _Reader
from .tomlmarks import TomlError, parse_toml
from .yamlmarks import MarkedList, MarkedMap

__all__ = ["WRANGLER_FILES", "local_namespace", "read_wrangler"]

WRANGLER_FILES = ("wrangler.jsonc", "wrangler.json", "wrangler.toml")
_NAMESPACE_SALT = "workerhost:wrangler-kv:"
_WORKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# What env.NAME inherits from the top level; everything else in an environment stands alone.
_INHERITED = (
    "main",
    "compatibility_date",
    "compatibility_flags",
    "account_id",
    "triggers",
    "assets",
    "workers_dev",
    "preview_urls",
    "routes",
    "route",
    "build",
    "rules",
    "limits",
    "placement",
    "observability",
    "logpush",
    "minify",
    "keep_names",
    "no_bundle",
    "find_additional_modules",
    "preserve_file_names",
    "base_dir",
    "tsconfig",
    "jsx_factory",
    "jsx_fragment",
    "upload_source_maps",
    "first_party_worker",
    "python_modules",
    "migrations",
    "logfwdr",
    "compliance_region",
    "cache",
    "previews",
)
# Binding kinds, with how to find their names: a list of {binding} (or {name}), one {binding}, or
# {bindings: [{name}]}; all are per environment.
_LIST_BINDINGS = {
    "d1_databases": "D1 database",
    "r2_buckets": "R2 bucket",
    "vectorize": "Vectorize index",
    "services": "service binding",
    "analytics_engine_datasets": "Analytics Engine dataset",
    "hyperdrive": "Hyperdrive config",
    "mtls_certificates": "mTLS certificate",
    "dispatch_namespaces": "dispatch namespace",
    "send_email": "Send Email binding",
    "workflows": "Workflow",
    "secrets_store_secrets": "Secrets Store secret",
    "pipelines": "Pipeline",
    "ratelimits": "rate limit",
    "worker_loaders": "Worker Loader",
    "vpc_services": "VPC service",
    "vpc_networks": "VPC network",
    "ai_search_namespaces": "AI Search namespace",
    "ai_search": "AI Search instance",
    "artifacts": "Artifacts binding",
    "flagship": "Flagship binding",
}
_SINGLE_BINDINGS = {
    "ai": "Workers AI",
    "browser": "Browser Rendering",
    "images": "Images",
    "version_metadata": "version metadata",
    "media": "Media",
    "stream": "Stream",
    "unsafe_hello_world": "Hello World binding",
}
_NESTED_BINDINGS = {
    "durable_objects": "Durable Object namespace",
    "logfwdr": "logfwdr binding",
    "unsafe": "unsafe binding",
}
_MODULE_BINDINGS = {"wasm_modules": "Wasm module", "text_blobs": "text blob", "data_blobs": "data blob"}
_NOT_INHERITED = (
    "vars",
    "define",
    "kv_namespaces",
    "queues",
    "tail_consumers",
    "streaming_tail_consumers",
    "cloudchamber",
    "containers",
    "secrets",
    *_LIST_BINDINGS,
    *_SINGLE_BINDINGS,
    *_NESTED_BINDINGS,
    *_MODULE_BINDINGS,
)
# Keys that mean something to wrangler but nothing here: accepted as they are.
_ACCEPTED_ONLY = (
    "$schema",
    "name",
    "env",
    "dev",
    "site",
    "legacy_env",
    "send_metrics",
    "keep_vars",
    "usage_model",
    "alias",
    "node_compat",
    "upload_source_maps",
    "pages_build_output_dir",
)
_KNOWN = frozenset((*_INHERITED, *_NOT_INHERITED, *_ACCEPTED_ONLY))
_KV_KEYS = ("binding", "id", "preview_id", "remote", "experimental_remote")


def local_namespace(id_text: str) -> KVNamespaceConfig:
    """The local namespace a wrangler KV ``id`` (any string) stands for: titled by it, with an id derived from it.

    A real namespace id (32 lowercase hex digits) is used as it is.
    """
    if is_namespace_id(id_text):
        return KVNamespaceConfig(id_text, id_text)
    digest = hashlib.sha256((_NAMESPACE_SALT + id_text).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return KVNamespaceConfig(id_text, digest)


def _parse(text: str, source: str) -> Any:
    try:
        if source.endswith(".toml"):
            return parse_toml(text)
        return parse_jsonc(text)
    except (JsoncError, TomlError) as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc.message}") from None


def read_wrangler(text: str, source: str, base: Path, env: str | None) -> Document:
    """Parse and check a wrangler config's text; ``env`` selects ``[env.NAME]``.

    Raises:
        ConfigError: naming the file, the line and the key of the first problem.
    """
    data = _parse(text, source)
    reader = _WranglerReader(source, base)
    if data is None:
        data = MarkedMap(1)
    if not isinstance(data, MarkedMap):
        reader.fail(getattr(data, "line", 1), f"the top level must be an object of settings, got {_describe(data)}")
    return reader.document_for(data, env)


class _WranglerReader(_Reader):
    def __init__(self, source: str, base: Path) -> None:
        super().__init__(source, base)
        self.warnings: list[str] = []

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.source}:{line}: {message}")

    def mapping(self, value: Any, line: int, path: str, keys: Sequence[str]) -> MarkedMap:
        # wrangler warns about keys it does not know instead of refusing the config; so do we.
        if value is None:
            return MarkedMap(line)
        if not isinstance(value, MarkedMap):
            self.fail(line, f"{path} must be an object with keys {', '.join(keys)}, got {_describe(value)}")
        for key in value:
            if key not in keys:
                self.warn(value.key_lines[key], f"{self._unknown_key(key, path, keys)}; it is ignored")
        return value

    # --- environments ------------------------------------------------------------------------------

    def effective(self, top: MarkedMap, env: str | None) -> tuple[MarkedMap, str]:
        """The settings of ``env`` merged with the top level as wrangler merges them, and the path prefix."""
        if env is None:
            return top, ""
        envs = top.get("env")
        line = self.line_of(top, "env")
        if not isinstance(envs, MarkedMap) or env not in envs:
            known = sorted(envs) if isinstance(envs, MarkedMap) else []
            close = difflib.get_close_matches(env, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            listed = ", ".join(known) if known else "none are defined"
            self.fail(line, f'there is no environment "{env}" (env.{env}); environments: {listed}{hint}')
        section = envs[env]
        if not isinstance(section, MarkedMap):
            self.fail(envs.key_lines[env], f"env.{env} must be an object of settings, got {_describe(section)}")
        merged = MarkedMap(section.line)
        for key in _INHERITED:
            if key in section:
                merged[key], merged.key_lines[key] = section[key], section.key_lines[key]
            elif key in top:
                merged[key], merged.key_lines[key] = top[key], top.key_lines[key]
        for key in _NOT_INHERITED:
            if key in section:
                merged[key], merged.key_lines[key] = section[key], section.key_lines[key]
            elif key in top:
                self.warn(
                    top.key_lines[key],
                    f'"{key}" exists at the top level, but not on "env.{env}"; it is not inherited by environments, '
                    f'so env.{env} has none (add "{key}" to "env.{env}")',
                )
        for key in section:
            if key not in merged and key != "name":
                merged[key], merged.key_lines[key] = section[key], section.key_lines[key]
        if "name" in section:
            merged["name"], merged.key_lines["name"] = section["name"], section.key_lines["name"]
        elif isinstance(top.get("name"), str):
            merged["name"], merged.key_lines["name"] = f"{top['name']}-{env}", top.key_lines["name"]
        return merged, f"env.{env}."

    # --- the document ------------------------------------------------------------------------------

    def document_for(self, top: MarkedMap, env: str | None) -> Document:
        for key in top:
            if key not in _KNOWN:
                close = difflib.get_close_matches(str(key), sorted(_KNOWN), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                self.warn(top.key_lines[key], f"{key} is not a wrangler setting workerhost knows; it is ignored{hint}")
        settings, prefix = self.effective(top, env)
        worker = self.wrangler_worker(settings, prefix)
        namespaces: dict[str, KVNamespaceConfig] = {}
        for binding in worker.kv_namespaces:
            declared = KVNamespaceConfig(binding.title, binding.namespace_id, binding.line)
            namespaces.setdefault(declared.title, declared)
        host, port = self.dev_settings(top)
        account_id = settings.get("account_id")
        return Document(
            account_id=account_id if isinstance(account_id, str) and is_namespace_id(account_id) else None,
            persist_to=None,
            kv_namespaces=tuple(namespaces.values()),
            workers=(worker,),
            tokens_env=None,
            read_tokens_env=None,
            fidelity=FidelitySettings(),  # the production-fidelity modes are kv.yaml's (README "Production fidelity")
            api_rate_limit=False,
            storage=None,  # wrangler has no such setting: --storage or WORKERHOST_STORAGE choose a store
            storage_line=0,
            warnings=tuple(self.warnings),
            dev_host=host,
            dev_port=port,
        )

    def dev_settings(self, top: MarkedMap) -> tuple[str | None, int | None]:
        if "dev" not in top:
            return None, None
        dev = top["dev"]
        if not isinstance(dev, MarkedMap):
            self.fail(self.line_of(top, "dev"), f"dev must be an object, got {_describe(dev)}")
        host = dev.get("ip")
        if host is not None and not isinstance(host, str):
            self.fail(self.line_of(dev, "ip"), f"dev.ip must be a string, got {_describe(host)}")
        port = dev.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
            self.fail(self.line_of(dev, "port"), f"dev.port must be a number from 0 to 65535, got {_describe(port)}")
        return host, port

    def wrangler_worker(self, settings: MarkedMap, prefix: str) -> WorkerConfig:
        name = self.worker_name(settings, prefix)
        assets = self.assets(settings, prefix.rstrip(".")) if "assets" in settings else None
        script_display, script = self.main(settings, prefix, assets is not None)
        bindings = self.kv_bindings(settings, prefix)
        variables = self.vars(settings, prefix.rstrip("."), bindings) if "vars" in settings else MappingProxyType({})
        if assets is not None and assets.binding is not None:
            self.check_unique_binding(assets.binding, assets.line, f"{prefix}assets.binding", bindings, variables)
        unavailable = self.unavailable(settings, prefix)
        for missing in unavailable:
            self.check_unique_binding(missing.name, missing.line, f"{prefix}binding", bindings, variables)
        return WorkerConfig(
            name=name,
            script=script,
            script_display=script_display,
            routes=("/*",),
            kv_namespaces=bindings,
            vars=variables,
            crons=self.crons(settings, prefix.rstrip(".")) if "triggers" in settings else (),
            line=settings.line,
            assets=assets,
            unavailable=unavailable,
            compatibility_date=self.compatibility_date(settings, prefix),
            compatibility_flags=self.compatibility_flags(settings, prefix),
        )

    def worker_name(self, settings: MarkedMap, prefix: str) -> str:
        value = settings.get("name")
        if value is None:
            fallback = re.sub(r"[^A-Za-z0-9_-]+", "-", self.base.name).strip("-_") or "worker"
            return fallback
        line = self.line_of(settings, "name")
        name = self.string(value, line, f"{prefix}name", "the worker's name")
        if not _WORKER_NAME.fullmatch(name):
            self.fail(line, f"{prefix}name must be letters, digits, - and _, got {name!r}")
        return name

    def main(self, settings: MarkedMap, prefix: str, has_assets: bool) -> tuple[str, Path | None]:
        what = 'the worker\'s Python script, relative to the config file, e.g. "src/entry.py"'
        if "main" not in settings:
            if has_assets:
                return "", None
            self.fail(settings.line, f"{prefix}main is required: {what}")
        line = self.line_of(settings, "main")
        display = self.string(settings["main"], line, f"{prefix}main", what)
        script = (self.base / display).absolute()
        if script.suffix != ".py":
            self.fail(line, f'{prefix}main "{display}" is not a .py file; workerhost runs Python workers ({what})')
        if not script.is_file():
            self.fail(line, f'{prefix}main "{display}" does not exist (looked for {script}); expected {what}')
        return display, script

    def compatibility_date(self, settings: MarkedMap, prefix: str) -> str | None:
        value = settings.get("compatibility_date")
        if value is None:
            return None
        line = self.line_of(settings, "compatibility_date")
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            self.fail(line, f'{prefix}compatibility_date must be a date like "2025-11-02", got {_describe(value)}')
        return value

    def compatibility_flags(self, settings: MarkedMap, prefix: str) -> tuple[str, ...]:
        value = settings.get("compatibility_flags")
        if value is None:
            return ()
        line = self.line_of(settings, "compatibility_flags")
        if not isinstance(value, MarkedList) or not all(isinstance(flag, str) for flag in value):
            self.fail(line, f"{prefix}compatibility_flags must be a list of strings, got {_describe(value)}")
        return tuple(value)

    # --- KV ----------------------------------------------------------------------------------------

    def kv_bindings(self, settings: MarkedMap, prefix: str) -> tuple[KVBindingConfig, ...]:
        path = f"{prefix}kv_namespaces"
        items = self.sequence(
            settings.get("kv_namespaces"), self.line_of(settings, "kv_namespaces"), path, "{binding, id} objects"
        )
        result: list[KVBindingConfig] = []
        for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True)):
            binding = self.kv_binding(item, line, f"{path}[{index}]")
            for other in result:
                if other.binding == binding.binding:
                    self.fail(
                        binding.line,
                        f'{path}[{index}].binding "{binding.binding}" is already bound at line {other.line}; '
                        "expected each binding name once",
                    )
            result.append(binding)
        return tuple(result)

    def kv_binding(self, item: Any, line: int, path: str) -> KVBindingConfig:
        if not isinstance(item, MarkedMap):
            self.fail(line, f"{path} must be an object with keys binding, id, preview_id, got {_describe(item)}")
        entry = self.mapping(item, line, path, _KV_KEYS)
        value, binding_line = self.required(entry, "binding", path, "the variable name the worker sees, e.g. MY_KV")
        name = self.string(value, binding_line, f"{path}.binding", "a variable name like MY_KV")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self.fail(binding_line, f"{path}.binding must be a variable name (letters, digits and _), got {name!r}")
        ids: dict[str, KVNamespaceConfig] = {}
        for key in ("id", "preview_id"):
            if key in entry:
                key_line = self.line_of(entry, key)
                text = self.string(entry[key], key_line, f"{path}.{key}", "a namespace id (any non-empty string)")
                if len(text) > MAX_TITLE_LENGTH:
                    self.fail(key_line, f"{path}.{key} must be at most {MAX_TITLE_LENGTH} characters, got {len(text)}")
                declared = local_namespace(text)
                ids[key] = KVNamespaceConfig(declared.title, declared.id, key_line)
        if not ids:  # no id at all: wrangler dev keys the local namespace by the binding's name
            declared = local_namespace(name)
            ids["id"] = KVNamespaceConfig(declared.title, declared.id, binding_line)
        used = ids.get("preview_id") or ids["id"]
        return KVBindingConfig(
            name, used.title, used.title, used.id, binding_line, ids.get("id"), ids.get("preview_id")
        )

    # --- bindings not emulated ---------------------------------------------------------------------

    def unavailable(self, settings: MarkedMap, prefix: str) -> tuple[UnavailableBinding, ...]:
        found: list[UnavailableBinding] = []
        for key, kind in _LIST_BINDINGS.items():
            items = settings.get(key)
            if isinstance(items, MarkedList):
                for item, line in zip(items, items.item_lines, strict=True):
                    name = item.get("binding") or item.get("name") if isinstance(item, MarkedMap) else None
                    if isinstance(name, str):
                        found.append(UnavailableBinding(name, kind, line))
        for key, kind in _SINGLE_BINDINGS.items():
            item = settings.get(key)
            if isinstance(item, MarkedMap) and isinstance(item.get("binding"), str):
                found.append(UnavailableBinding(item["binding"], kind, self.line_of(item, "binding")))
        for key, kind in _NESTED_BINDINGS.items():
            item = settings.get(key)
            items = item.get("bindings") if isinstance(item, MarkedMap) else None
            if isinstance(items, MarkedList):
                for entry, line in zip(items, items.item_lines, strict=True):
                    if isinstance(entry, MarkedMap) and isinstance(entry.get("name"), str):
                        found.append(UnavailableBinding(entry["name"], kind, line))
        for key, kind in _MODULE_BINDINGS.items():
            item = settings.get(key)
            if isinstance(item, MarkedMap):
                found.extend(UnavailableBinding(str(name), kind, item.key_lines[name]) for name in item)
        queues = settings.get("queues")
        if isinstance(queues, MarkedMap):
            producers = queues.get("producers")
            if isinstance(producers, MarkedList):
                for entry, line in zip(producers, producers.item_lines, strict=True):
                    if isinstance(entry, MarkedMap) and isinstance(entry.get("binding"), str):
                        found.append(UnavailableBinding(entry["binding"], "Queue", line))
            if "consumers" in queues:
                self.warn(
                    self.line_of(queues, "consumers"),
                    f"{prefix}queues.consumers: queues are not emulated, so the worker's queue handler never runs",
                )
        return tuple(found)
