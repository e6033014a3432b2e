"""kv.yaml's schema: walks the parsed document, checks every key, and builds the config dataclasses.

Every error names the file, the line and the key path, and says what was expected. Unknown keys are
errors (with a "did you mean" when one is close), so a typo is never silently ignored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from bindings.catalog import MAX_TITLE_LENGTH, is_namespace_id
from bindings.fidelity import FidelitySettings

from ..errors import ConfigError
from .cron import parse_cron
from .encryption import EncryptionSetting
from .fidelity import API_RATE_LIMIT, read_modes, settings_with
from .model import HTML_HANDLING, NOT_FOUND_HANDLING, AssetsConfig, KVBindingConfig, KVNamespaceConfig, WorkerConfig
from .routes import RESERVED_PREFIXES, RoutePattern, parse_route
from .yamlcache import ParseCache
from .yamlmarks import MarkedList, MarkedMap, YamlError, parse_yaml

__all__ = ["Document", "read_document"]

_TOP_KEYS = ("account_id", "persist_to", "storage", "encryption", "kv_namespaces", "workers", "api", "fidelity")
_ENCRYPTION_KEYS = ("key_env", "key_file")
_NAMESPACE_KEYS = ("title", "id", "fidelity")
_WORKER_KEYS = ("name", "script", "routes", "kv_namespaces", "vars", "triggers", "assets")
_ASSETS_KEYS = ("directory", "binding", "run_worker_first", "html_handling", "not_found_handling")
_BINDING_KEYS = ("binding", "namespace")
_TRIGGER_KEYS = ("crons",)
_API_KEYS = ("tokens_env", "read_tokens_env")
_DEFAULT_ROUTES = ("/*",)

# Cloudflare's account ids have the form of its namespace ids: 32 lowercase hex digits.
_is_account_id = is_namespace_id
_WORKER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Document:
    """kv.yaml's content, validated; settings the environment may override are left as written."""

    account_id: str | None
    persist_to: str | None
    storage: str | None
    storage_line: int
    kv_namespaces: tuple[KVNamespaceConfig, ...]
    workers: tuple[WorkerConfig, ...]
    tokens_env: str | None
    read_tokens_env: str | None
    fidelity: FidelitySettings
    api_rate_limit: bool
    warnings: tuple[str, ...] = ()
    dev_host: str | None = None  # a wrangler config's dev.ip
    dev_port: int | None = None  # a wrangler config's dev.port
    encryption: EncryptionSetting | None = None  # kv.yaml's encryption block


def read_document(text: str, source: str, base: Path, cache: ParseCache | None = None) -> Document:
    """Parse and validate kv.yaml's text; ``source`` names the file in errors, ``base`` anchors relative paths.

    Args:
        cache: documents parsed before (``workerhost dev`` passes one); validation runs either way.
    """
    try:
        data = parse_yaml(text) if cache is None else cache.parse(text)
    except YamlError as exc:
        raise ConfigError(f"{source}:{exc.line}: {exc.message}") from None
    return _Reader(source, base).document(data)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str | int | float):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__}"


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f'"{value}"' for value in values)


class _Reader:
    def __init__(self, source: str, base: Path) -> None:
        self.source = source
        self.base = base

    def fail(self, line: int, message: str) -> NoReturn:
        raise ConfigError(f"{self.source}:{line}: {message}")

    # --- generic shapes ----------------------------------------------------------------------------

    def mapping(self, value: Any, line: int, path: str, keys: Sequence[str]) -> MarkedMap:
        if value is None:
            return MarkedMap(line)
        if not isinstance(value, MarkedMap):
            self.fail(line, f"{path} must be a mapping with keys {', '.join(keys)}, got {_describe(value)}")
        for key in value:
            if key not in keys:
                self.fail(value.key_lines[key], self._unknown_key(key, path, keys))
        return value

    def _unknown_key(self, key: Any, path: str, keys: Sequence[str]) -> str:
        where = f"{path}.{key}" if path else str(key)
        close = difflib.get_close_matches(str(key), keys, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f"{where} is not a known key; expected one of: {', '.join(keys)}{hint}"

    def sequence(self, value: Any, line: int, path: str, what: str) -> MarkedList:
        if value is None:
            return MarkedList(line)
        if not isinstance(value, MarkedList):
            self.fail(line, f"{path} must be a list of {what}, got {_describe(value)}")
        return value

    def string(self, value: Any, line: int, path: str, expected: str = "a string") -> str:
        if not isinstance(value, str) or not value:
            self.fail(line, f"{path} must be {expected}, got {_describe(value)}")
        return value

    @staticmethod
    def line_of(mapping: MarkedMap, key: str) -> int:
        return mapping.key_lines.get(key, mapping.line)

    def required(self, mapping: MarkedMap, key: str, path: str, what: str) -> tuple[Any, int]:
        if key not in mapping:
            self.fail(mapping.line, f"{path}.{key} is required: {what}")
        return mapping[key], mapping.key_lines[key]

    # --- the document ------------------------------------------------------------------------------

    def document(self, data: Any) -> Document:
        if data is not None and not isinstance(data, MarkedMap):
            self.fail(getattr(data, "line", 1), f"the top level must be a mapping of settings, got {_describe(data)}")
        top = self.mapping(data, 1, "", _TOP_KEYS)
        account_id = self.optional_string(top, "account_id", "account_id", "a string of 32 lowercase hex digits")
        if account_id is not None and not _is_account_id(account_id):
            self.fail(
                self.line_of(top, "account_id"),
                f"account_id must be 32 lowercase hex digits, got {_describe(account_id)}",
            )
        modes = self.modes(top, "fidelity", host=True)
        fidelity = settings_with(FidelitySettings(), modes)
        namespaces = self.namespaces(top, fidelity)
        workers = self.workers(top, namespaces)
        api = self.mapping(top.get("api"), self.line_of(top, "api"), "api", _API_KEYS)
        return Document(
            account_id=account_id,
            persist_to=self.optional_string(top, "persist_to", "persist_to", "a directory path"),
            storage=self.optional_string(
                top, "storage", "storage", "a storage location: a directory, or a URL such as redis://host:6379/0"
            ),
            storage_line=self.line_of(top, "storage"),
            kv_namespaces=namespaces,
            workers=workers,
            tokens_env=self.optional_string(api, "tokens_env", "api.tokens_env", "an environment variable name"),
            read_tokens_env=self.optional_string(
                api, "read_tokens_env", "api.read_tokens_env", "an environment variable name"
            ),
            fidelity=fidelity,
            api_rate_limit=modes.get(API_RATE_LIMIT, False),
            encryption=self.encryption(top) if "encryption" in top else None,
        )

    def encryption(self, top: MarkedMap) -> EncryptionSetting:
        """``encryption: {key_env: NAME}`` or ``{key_file: PATH}``: where the KV encryption key is."""
        line = self.line_of(top, "encryption")
        block = self.mapping(top["encryption"], line, "encryption", _ENCRYPTION_KEYS)
        given = [key for key in _ENCRYPTION_KEYS if key in block]
        if len(given) != 1:
            self.fail(
                line,
                "encryption must name where the key is with exactly one of key_env (an environment variable "
                "holding it) or key_file (a file holding it, relative to kv.yaml), got "
                + (" and ".join(given) if given else "neither"),
            )
        if given == ["key_env"]:
            name = self.optional_string(block, "key_env", "encryption.key_env", "an environment variable name")
            return EncryptionSetting(key_env=name, line=self.line_of(block, "key_env"))
        path = self.optional_string(block, "key_file", "encryption.key_file", "a file path")
        return EncryptionSetting(key_file=path, line=self.line_of(block, "key_file"))

    def modes(self, mapping: MarkedMap, path: str, *, host: bool) -> dict[str, Any]:
        """The production-fidelity modes a ``fidelity:`` block sets (``runtime.config.fidelity``)."""
        line = self.line_of(mapping, "fidelity")
        block = mapping.get("fidelity")
        if block is None:
            return {}
        if not isinstance(block, MarkedMap):
            self.fail(line, f"{path} must be a mapping of modes, e.g. {{rate_limit: true}}, got {_describe(block)}")

        def fail(key: str, message: str) -> NoReturn:
            self.fail(block.key_lines.get(key, line), message)

        return read_modes(block, path, fail, host=host)

    def optional_string(self, mapping: MarkedMap, key: str, path: str, expected: str) -> str | None:
        if key not in mapping:
            return None
        value = mapping[key]
        if not isinstance(value, str) or not value:
            hint = " (quote it in YAML)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
            self.fail(self.line_of(mapping, key), f"{path} must be {expected}{hint}, got {_describe(value)}")
        return value

    # --- kv_namespaces -----------------------------------------------------------------------------

    def namespaces(self, top: MarkedMap, fidelity: FidelitySettings) -> tuple[KVNamespaceConfig, ...]:
        items = self.sequence(
            top.get("kv_namespaces"), self.line_of(top, "kv_namespaces"), "kv_namespaces", "{title, id?} mappings"
        )
        result: list[KVNamespaceConfig] = []
        for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True)):
            result.append(self.namespace(item, line, f"kv_namespaces[{index}]", result, fidelity))
        return tuple(result)

    def namespace(
        self, item: Any, line: int, path: str, seen: list[KVNamespaceConfig], fidelity: FidelitySettings
    ) -> KVNamespaceConfig:
        entry = self.mapping(item, line, path, _NAMESPACE_KEYS)
        if item is None:
            self.fail(line, f"{path} must be a mapping with keys title, id, got nothing (null)")
        title_value, title_line = self.required(entry, "title", path, "the namespace's title")
        title = self.string(title_value, title_line, f"{path}.title", "a non-empty string")
        if len(title) > MAX_TITLE_LENGTH:
            self.fail(title_line, f"{path}.title must be at most {MAX_TITLE_LENGTH} characters, got {len(title)}")
        namespace_id = self.optional_string(entry, "id", f"{path}.id", "32 lowercase hex digits")
        if namespace_id is not None and not is_namespace_id(namespace_id):
            self.fail(self.line_of(entry, "id"), f"{path}.id must be 32 lowercase hex digits, got {namespace_id!r}")
        for index, other in enumerate(seen):
            if other.title == title:
                self.fail(
                    title_line,
                    f'{path}.title "{title}" is already declared by kv_namespaces[{index}] '
                    f"(line {other.line}); expected each title once",
                )
            if namespace_id is not None and other.id == namespace_id:
                self.fail(
                    self.line_of(entry, "id"),
                    f'{path}.id "{namespace_id}" is already declared by '
                    f"kv_namespaces[{index}] (line {other.line}); expected each id once",
                )
        own = self.modes(entry, f"{path}.fidelity", host=False) if "fidelity" in entry else None
        return KVNamespaceConfig(title, namespace_id, line, None if own is None else settings_with(fidelity, own))

    # --- workers -----------------------------------------------------------------------------------

    def workers(self, top: MarkedMap, namespaces: tuple[KVNamespaceConfig, ...]) -> tuple[WorkerConfig, ...]:
        items = self.sequence(top.get("workers"), self.line_of(top, "workers"), "workers", "worker mappings")
        result: list[WorkerConfig] = []
        claimed: dict[tuple[Any, ...], tuple[str, str, int]] = {}
        for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True)):
            worker = self.worker(item, line, f"workers[{index}]", namespaces)
            for other in result:
                if other.name == worker.name:
                    self.fail(
                        worker.line,
                        f'workers[{index}].name "{worker.name}" is already the name of another '
                        f"worker (line {other.line}); expected unique worker names",
                    )
            self.claim_routes(item, worker, f"workers[{index}]", claimed)
            result.append(worker)
        return tuple(result)

    def worker(self, item: Any, line: int, path: str, namespaces: tuple[KVNamespaceConfig, ...]) -> WorkerConfig:
        if item is None:
            self.fail(line, f"{path} must be a mapping with keys {', '.join(_WORKER_KEYS)}, got nothing (null)")
        entry = self.mapping(item, line, path, _WORKER_KEYS)
        name_value, name_line = self.required(entry, "name", path, "a name for the worker, e.g. counter")
        name = self.string(name_value, name_line, f"{path}.name", "a string of letters, digits, - and _")
        if not _WORKER_NAME.fullmatch(name):
            self.fail(name_line, f"{path}.name must be letters, digits, - and _, got {name!r}")
        assets = self.assets(entry, path) if "assets" in entry else None
        script_display, script = (
            ("", None) if assets is not None and "script" not in entry else self.script(entry, path)
        )
        bindings = self.bindings(entry, path, namespaces)
        variables = self.vars(entry, path, bindings)
        if assets is not None and assets.binding is not None:
            self.check_unique_binding(assets.binding, assets.line, f"{path}.assets.binding", bindings, variables)
        return WorkerConfig(
            name=name,
            script=script,
            script_display=script_display,
            routes=self.routes(entry, path),
            kv_namespaces=bindings,
            vars=variables,
            crons=self.crons(entry, path),
            line=line,
            assets=assets,
        )

    def check_unique_binding(
        self, name: str, line: int, where: str, bindings: tuple[KVBindingConfig, ...], variables: Any
    ) -> None:
        for binding in bindings:
            if binding.binding == name:
                self.fail(
                    line, f'{where} "{name}" is also the KV binding at line {binding.line}; expected unique names'
                )
        if name in variables:
            self.fail(line, f'{where} "{name}" is also the name of a var; expected unique names')

    def assets(self, entry: MarkedMap, path: str) -> AssetsConfig:
        """``assets: {directory, binding?, run_worker_first?, html_handling?, not_found_handling?}``."""
        line = self.line_of(entry, "assets")
        where = f"{path}.assets" if path else "assets"
        block = self.mapping(entry["assets"], line, where, _ASSETS_KEYS)
        what = "the folder of static files to serve, relative to the config file"
        value, directory_line = self.required(block, "directory", where, what)
        display = self.string(value, directory_line, f"{where}.directory", what)
        directory = (self.base / display).absolute()
        if not directory.is_dir():
            self.fail(
                directory_line,
                f'{where}.directory "{display}" is not a folder (looked for {directory}); expected {what}',
            )
        binding = None
        if "binding" in block:
            binding_line = self.line_of(block, "binding")
            binding = self.string(block["binding"], binding_line, f"{where}.binding", "a variable name like ASSETS")
            if not _IDENTIFIER.fullmatch(binding):
                self.fail(
                    binding_line, f"{where}.binding must be a variable name (letters, digits and _), got {binding!r}"
                )
        return AssetsConfig(
            directory=directory,
            directory_display=display,
            binding=binding,
            run_worker_first=self.run_worker_first(block, where),
            html_handling=self.choice(block, "html_handling", where, HTML_HANDLING),
            not_found_handling=self.choice(block, "not_found_handling", where, NOT_FOUND_HANDLING),
            line=line,
        )

    def run_worker_first(self, block: MarkedMap, where: str) -> bool | tuple[str, ...]:
        if "run_worker_first" not in block:
            return False
        value, line = block["run_worker_first"], self.line_of(block, "run_worker_first")
        if isinstance(value, bool):
            return value
        expected = 'true, false, or a list of route patterns like "/api/*" (a leading ! excludes)'
        if not isinstance(value, MarkedList):
            self.fail(line, f"{where}.run_worker_first must be {expected}, got {_describe(value)}")
        patterns: list[str] = []
        for index, (item, item_line) in enumerate(zip(value, value.item_lines, strict=True)):
            text = self.string(item, item_line, f"{where}.run_worker_first[{index}]", expected)
            if not text.removeprefix("!").startswith("/"):
                self.fail(item_line, f'{where}.run_worker_first[{index}] "{text}" must start with / (or !/)')
            patterns.append(text)
        return tuple(patterns)

    def choice(self, block: MarkedMap, key: str, where: str, allowed: Sequence[str]) -> str:
        if key not in block:
            return allowed[0]
        value, line = block[key], self.line_of(block, key)
        if value not in allowed:
            close = difflib.get_close_matches(str(value), allowed, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            self.fail(line, f"{where}.{key} must be one of {_quoted(allowed)}, got {_describe(value)}{hint}")
        return str(value)

    def script(self, entry: MarkedMap, path: str) -> tuple[str, Path]:
        what = "the path of the handler script, relative to kv.yaml"
        value, line = self.required(entry, "script", path, what)
        display = self.string(value, line, f"{path}.script", what)
        script = (self.base / display).absolute()
        if not script.is_file():
            self.fail(line, f'{path}.script "{display}" does not exist (looked for {script}); expected {what}')
        return display, script

    def routes(self, entry: MarkedMap, path: str) -> tuple[str, ...]:
        if "routes" not in entry:
            return _DEFAULT_ROUTES
        items = self.sequence(entry["routes"], self.line_of(entry, "routes"), f"{path}.routes", "route patterns")
        routes: list[str] = []
        for index, (value, line) in enumerate(zip(items, items.item_lines, strict=True)):
            pattern = self.route(value, line, f"{path}.routes[{index}]")
            if pattern.text not in routes:
                routes.append(pattern.text)
        return tuple(routes)

    def route(self, value: Any, line: int, path: str) -> RoutePattern:
        text = self.string(value, line, path, 'a route pattern like "/api/*" or "example.com/*"')
        try:
            pattern = parse_route(text)
        except ValueError as exc:
            self.fail(
                line, f'{path} "{text}" is not a route pattern: {exc}; expected "/path", "/path*" or "host/path*"'
            )
        if any(pattern.path.startswith(prefix.rstrip("/")) for prefix in RESERVED_PREFIXES):
            self.fail(
                line,
                f'{path} "{text}" is under {", ".join(RESERVED_PREFIXES)}, which workerhost reserves '
                "for its dev routes; expected another path",
            )
        return pattern

    def claim_routes(
        self, item: MarkedMap, worker: WorkerConfig, path: str, claimed: dict[tuple[Any, ...], tuple[str, str, int]]
    ) -> None:
        routes = item.get("routes")
        if isinstance(routes, MarkedList):
            located = [
                (text, line, f"{path}.routes[{i}]")
                for i, (text, line) in enumerate(zip(routes, routes.item_lines, strict=True))
            ]
        else:
            located = [(text, worker.line, f"{path}.routes (default)") for text in worker.routes]
        for text, line, where in located:
            key = parse_route(text).key
            owner = claimed.get(key)
            if owner is not None and owner[0] != worker.name:
                self.fail(
                    line,
                    f'{where} "{text}" is already claimed by worker "{owner[0]}" ({owner[1]}, '
                    f"line {owner[2]}); expected each route to belong to one worker",
                )
            claimed[key] = (worker.name, where, line)

    def bindings(
        self, entry: MarkedMap, path: str, namespaces: tuple[KVNamespaceConfig, ...]
    ) -> tuple[KVBindingConfig, ...]:
        items = self.sequence(
            entry.get("kv_namespaces"),
            self.line_of(entry, "kv_namespaces"),
            f"{path}.kv_namespaces",
            "{binding, namespace} mappings",
        )
        result: list[KVBindingConfig] = []
        for index, (item, line) in enumerate(zip(items, items.item_lines, strict=True)):
            binding = self.binding(item, line, f"{path}.kv_namespaces[{index}]", namespaces)
            for other in result:
                if other.binding == binding.binding:
                    self.fail(
                        binding.line,
                        f'{path}.kv_namespaces[{index}].binding "{binding.binding}" is already '
                        f"bound at line {other.line}; expected each binding name once per worker",
                    )
            result.append(binding)
        return tuple(result)

    def binding(self, item: Any, line: int, path: str, namespaces: tuple[KVNamespaceConfig, ...]) -> KVBindingConfig:
        if item is None:
            self.fail(line, f"{path} must be a mapping with keys binding, namespace, got nothing (null)")
        entry = self.mapping(item, line, path, _BINDING_KEYS)
        value, binding_line = self.required(entry, "binding", path, "the variable name the handler sees, e.g. MY_KV")
        name = self.string(value, binding_line, f"{path}.binding", "a variable name like MY_KV")
        if not _IDENTIFIER.fullmatch(name):
            self.fail(
                binding_line,
                f"{path}.binding must be a variable name (letters, digits and _, not starting "
                f"with a digit), got {name!r}",
            )
        value, namespace_line = self.required(
            entry, "namespace", path, "the title or id of a namespace in kv_namespaces"
        )
        reference = self.string(value, namespace_line, f"{path}.namespace", "a namespace title or id")
        for declared in namespaces:
            if reference in (declared.title, declared.id):
                return KVBindingConfig(name, reference, declared.title, declared.id, binding_line)
        known = _quoted([n.title for n in namespaces]) if namespaces else "none are declared"
        self.fail(
            namespace_line,
            f'{path}.namespace "{reference}" is not declared in kv_namespaces; expected the '
            f"title or id of a declared namespace ({known})",
        )

    def vars(self, entry: MarkedMap, path: str, bindings: tuple[KVBindingConfig, ...]) -> MappingProxyType[str, Any]:
        values = entry.get("vars")
        if values is None:
            return MappingProxyType({})
        if not isinstance(values, MarkedMap):
            self.fail(
                self.line_of(entry, "vars"),
                f"{_join(path, 'vars')} must be a mapping of NAME: value, got {_describe(values)}",
            )
        result: dict[str, Any] = {}
        for key, value in values.items():
            line = values.key_lines[key]
            if not isinstance(key, str) or not key:
                self.fail(line, f"{_join(path, 'vars')} keys must be variable names, got {_describe(key)}")
            for binding in bindings:
                if binding.binding == key:
                    self.fail(
                        line,
                        f"{_join(path, 'vars')}.{key} has the name of the KV binding at line {binding.line}; "
                        "expected var names that differ from binding names",
                    )
            result[key] = _plain(value)
        return MappingProxyType(result)

    def crons(self, entry: MarkedMap, path: str) -> tuple[str, ...]:
        triggers = self.mapping(
            entry.get("triggers"), self.line_of(entry, "triggers"), f"{_join(path, 'triggers')}", _TRIGGER_KEYS
        )
        items = self.sequence(
            triggers.get("crons"),
            self.line_of(triggers, "crons"),
            f"{_join(path, 'triggers')}.crons",
            'cron expressions like "*/5 * * * *"',
        )
        crons: list[str] = []
        for index, (value, line) in enumerate(zip(items, items.item_lines, strict=True)):
            where = f"{_join(path, 'triggers')}.crons[{index}]"
            text = self.string(value, line, where, 'a cron expression like "*/5 * * * *"')
            try:
                parse_cron(text)
            except ValueError as exc:
                self.fail(line, f'{where} "{text}" is not a cron expression: {exc}')
            crons.append(text)
        return tuple(crons)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plain(value: Any) -> Any:
    # Vars reach handlers as ordinary dicts and lists, not our line-marked subclasses.
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
