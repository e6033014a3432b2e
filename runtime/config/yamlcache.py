"""A cache of parsed YAML documents on disk, so an unchanged kv.yaml loads without importing PyYAML.

Importing PyYAML is a large share of ``workerhost dev``'s start-up. With a ``ParseCache`` each document
parsed is kept, keyed by a hash of its text, in the user's cache directory. Only documents that parsed
are kept (validation still runs on every load), as plain values in ``marshal`` form with a checksum;
anything unreadable is parsed again. The cache is an object its owner passes to ``load_config``, never
a switch on a module: two configs in one process never share one by accident.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .yamlmarks import MarkedList, MarkedMap, parse_yaml

__all__ = ["MISSING", "ParseCache", "parse_cache_dir"]

_CACHE_FORMAT = b"workerhost-yaml-1"
_CACHE_FILES = 64  # documents kept; older ones are dropped
_SCALARS = (str, int, float, bool, type(None))
MISSING: Any = object()  # what ``get`` returns for a text never parsed (None is a document)


def parse_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``workerhost dev`` keeps parsed documents: ``$XDG_CACHE_HOME/workerhost/yaml``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "workerhost" / "yaml"


class ParseCache:
    """Parsed documents kept in ``directory`` (created when the first one is written)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __repr__(self) -> str:
        return f"ParseCache({str(self.directory)!r})"

    def parse(self, text: str) -> Any:
        """``parse_yaml(text)``, or the document kept from an earlier parse of the same text."""
        found = self.get(text)
        if found is MISSING:
            found = parse_yaml(text)
            self.put(text, found)
        return found

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(_CACHE_FORMAT + text.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, text: str) -> Any:
        """The document parsed from ``text`` before, or ``MISSING``."""
        try:
            data = (self.directory / f"{self._key(text)}.marshal").read_bytes()
        except OSError:
            return MISSING
        digest, payload = data[:32], data[32:]
        if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
            return MISSING  # torn or tampered: parse again
        try:
            return _decode(marshal.loads(payload))
        except (ValueError, EOFError, TypeError, IndexError):
            return MISSING

    def put(self, text: str, document: Any) -> None:
        """Keep ``document`` as the parse of ``text``; a document that cannot be kept is skipped."""
        try:
            payload = marshal.dumps(_encode(document))
        except (_Uncacheable, ValueError):
            return
        import tempfile  # only for writing: it is not needed when the cache is warm

        directory = self.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".tmp-", delete=False) as file:
                file.write(hashlib.sha256(payload).digest() + payload)
            os.replace(file.name, directory / f"{self._key(text)}.marshal")
            _prune(directory)
        except OSError:
            pass  # a cache that cannot be written only costs the next start the parse


class _Uncacheable(Exception):
    pass


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


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.marshal"), key=lambda entry: entry.stat().st_mtime)
    for stale in entries[:-_CACHE_FILES]:
        stale.unlink(missing_ok=True)
