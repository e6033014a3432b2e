"""YAML loading that remembers line numbers, so config errors can say where they are.

Mappings load as ``MarkedMap`` (a dict with ``line`` and ``key_lines``) and sequences as ``MarkedList``
(a list with ``line`` and ``item_lines``). A key given twice is an error, not a silent overwrite.

Importing PyYAML is a large share of ``workerhost dev``'s start-up, so the dev server turns on a parse
cache (``remember_parses``): each document parsed is kept, keyed by a hash of its text, in the user's
cache directory, and an unchanged kv.yaml then loads without importing PyYAML at all. Only documents
that parsed are kept (validation still runs on every load), as plain values in ``marshal`` form with
a checksum; anything unreadable is parsed again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

__all__ = ["MarkedList", "MarkedMap", "YamlError", "parse_cache_dir", "parse_yaml", "remember_parses"]

_CACHE_FORMAT = b"workerhost-yaml-1"
_CACHE_FILES = 64  # documents kept; older ones are dropped
_cache: Path | None = None


class YamlError(Exception):
    """The text is not valid YAML (or repeats a key); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


class MarkedMap(dict[Any, Any]):
    """A mapping with the 1-based line it starts on and the line of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class MarkedList(list[Any]):
    """A sequence with the 1-based line it starts on and the line of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int = 1) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


# --- parsing -----------------------------------------------------------------------------------------

_loader: type[yaml.SafeLoader] | None = None


def _marked_loader() -> type[yaml.SafeLoader]:
    global _loader
    if _loader is None:
        import yaml

        base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _loader = type("_Loader", (base,), {})
        _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
        _loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)
    return _loader


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)
    result = MarkedMap(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in result
        except TypeError:
            raise YamlError(line, "a key must be a plain value, not a list or mapping") from None
        if duplicate:
            raise YamlError(line, f"key {key!r} appears twice in one mapping (first at line {result.key_lines[key]})")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


def _parse(text: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_marked_loader())  # the loader is a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"invalid YAML: {exc}") from None


def parse_yaml(text: str) -> Any:
    """Load one YAML document with line marks; raises YamlError."""
    if _cache is None:
        return _parse(text)
    key = hashlib.sha256(_CACHE_FORMAT + text.encode("utf-8", "surrogatepass")).hexdigest()
    found = _read_cached(_cache / f"{key}.marshal")
    if found is not _MISSING:
        return found
    document = _parse(text)
    _write_cached(_cache, key, document)
    return document


# --- the parse cache ---------------------------------------------------------------------------------

_MISSING = object()
_SCALARS = (str, int, float, bool, type(None))


class _Uncacheable(Exception):
    pass


def parse_cache_dir() -> Path:
    """Where ``workerhost dev`` keeps parsed documents: ``$XDG_CACHE_HOME/workerhost/yaml``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workerhost" / "yaml"


def remember_parses(directory: Path | None) -> None:
    """Keep parsed documents under ``directory`` from now on (None: parse every time, the default)."""
    global _cache
    _cache = directory


def _encode(value: Any) -> Any:
    # Plain values, and tagged tuples for the marked containers (YAML never produces a tuple itself).
    if isinstance(value, MarkedMap):
        return ("m", value.line, [(_scalar(key), value.key_lines[key], _encode(item)) for key, item in value.items()])
    if isinstance(value, MarkedList):
        return ("l", value.line, list(value.item_lines), [_encode(item) for item in value])
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if type(value) not in _SCALARS:
        raise _Uncacheable  # dates, binary, sets: parsed again each time
    return value


def _decode(value: Any) -> Any:
    if type(value) is not tuple:
        return value
    if value[0] == "m":
        mapping = MarkedMap(value[1])
        for key, line, item in value[2]:
            mapping[key] = _decode(item)
            mapping.key_lines[key] = line
        return mapping
    sequence = MarkedList(value[1])
    sequence.item_lines = list(value[2])
    sequence.extend(_decode(item) for item in value[3])
    return sequence


def _read_cached(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except OSError:
        return _MISSING
    digest, payload = data[:32], data[32:]
    if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
        return _MISSING  # torn or tampered: parse again
    try:
        return _decode(marshal.loads(payload))
    except (ValueError, EOFError, TypeError, IndexError):
        return _MISSING


def _write_cached(directory: Path, key: str, document: Any) -> None:
    try:
        payload = marshal.dumps(_encode(document))
    except (_Uncacheable, ValueError):
        return
    import tempfile  # only for writing: it is not needed when the cache is warm

    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".tmp-", delete=False) as file:
            file.write(hashlib.sha256(payload).digest() + payload)
        os.replace(file.name, directory / f"{key}.marshal")
        _prune(directory)
    except OSError:
        pass  # a cache that cannot be written only costs the next start the parse


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.marshal"), key=lambda entry: entry.stat().st_mtime)
    for stale in entries[:-_CACHE_FILES]:
        stale.unlink(missing_ok=True)
