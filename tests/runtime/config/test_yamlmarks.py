"""Line-marked YAML, and the parse cache that lets ``workerhost dev`` start without importing PyYAML."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import yamlcache, yamlmarks
from runtime.config.yamlcache import ParseCache
from runtime.config.yamlmarks import MarkedList, MarkedMap, YamlError, parse_yaml
from tests.support import ROOT

TEXT = """\
kv_namespaces:
  - title: a
  - title: b
    id: 0f2ac74b498b48028cb68387c421e279
workers:
  - name: w
    routes: ["/x", "/y"]
    vars: {N: 3, F: 1.5, ON: true, NONE: null}
"""


@pytest.fixture
def parses(tmp_path: Path) -> ParseCache:
    return ParseCache(tmp_path / "cache")


@pytest.fixture
def cache(parses: ParseCache) -> Path:
    return parses.directory


def _lines(value: object) -> object:
    """The document with its marks, as plain data, to compare two loads exactly."""
    if isinstance(value, MarkedMap):
        return ("map", value.line, {key: (value.key_lines[key], _lines(item)) for key, item in value.items()})
    if isinstance(value, MarkedList):
        return ("list", value.line, [(line, _lines(item)) for line, item in zip(value.item_lines, value, strict=True)])
    return value


def test_a_remembered_document_loads_with_the_same_values_and_lines(cache: Path, parses: ParseCache) -> None:
    first = parses.parse(TEXT)
    assert len(list(cache.glob("*.marshal"))) == 1
    again = parses.parse(TEXT)
    assert again is not first and _lines(again) == _lines(first)
    assert isinstance(again, MarkedMap) and isinstance(again["workers"], MarkedList)
    assert again["workers"][0].key_lines == {"name": 6, "routes": 7, "vars": 8}


def test_an_unchanged_file_loads_without_pyyaml(cache: Path, parses: ParseCache) -> None:
    parses.parse(TEXT)
    check = (
        "import sys; from pathlib import Path; from runtime.config.yamlcache import ParseCache\n"
        f"document = ParseCache(Path({str(cache)!r})).parse({TEXT!r})\n"
        "assert document['workers'][0]['vars']['N'] == 3\n"
        "print('yaml' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "False"


def test_a_damaged_entry_is_parsed_again(cache: Path, parses: ParseCache) -> None:
    parses.parse(TEXT)
    (entry,) = cache.glob("*.marshal")
    entry.write_bytes(entry.read_bytes()[:-3])
    assert _lines(parses.parse(TEXT)) == _lines(yamlmarks._parse(TEXT))


def test_documents_with_other_values_load_but_are_not_kept(cache: Path, parses: ParseCache) -> None:
    document = parses.parse("when: 2024-01-02\n")
    assert document == {"when": datetime.date(2024, 1, 2)}
    assert not list(cache.glob("*.marshal"))


def test_invalid_yaml_is_an_error_with_its_line_and_is_not_kept(cache: Path, parses: ParseCache) -> None:
    with pytest.raises(YamlError, match=r"^line 2: "):
        parses.parse("a: 1\na: 2\n")
    assert not cache.exists() or not list(cache.glob("*.marshal"))


def test_only_a_bounded_number_of_documents_is_kept(
    cache: Path, parses: ParseCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlcache, "_CACHE_FILES", 3)
    for n in range(6):
        parses.parse(f"n: {n}\n")
    assert len(list(cache.glob("*.marshal"))) == 3


def test_nothing_is_kept_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parse_yaml(TEXT)
    assert not (tmp_path / "workerhost").exists()
    assert yamlcache.parse_cache_dir() == tmp_path / "workerhost" / "yaml"
