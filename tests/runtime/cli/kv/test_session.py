"""Where ``workerhost kv`` works: the persist directory and kv.yaml, resolved as ``workerhost dev`` does."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bindings import SqliteStore
from bindings.storage.encryption import KeyedStore
from runtime.cli.kv.session import Session
from tests.redis_fixtures import where_data_is

from .conftest import KV_YAML, Run

LINKS_ID = "0f2ac74b498b48028cb68387c421e279"


def _persist_to(**flags: str | None) -> Path:
    return Session.from_args(
        argparse.Namespace(config=flags.get("config"), persist_to=flags.get("persist_to"))
    ).persist_to


def test_without_kv_yaml_data_lives_in_dot_workerhost_of_the_working_directory(project: Path) -> None:
    assert _persist_to() == project / ".workerhost"


def test_persist_to_is_flag_then_environment_then_kv_yaml_then_beside_kv_yaml(
    with_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _persist_to() == with_config / ".workerhost"
    (with_config / "kv.yaml").write_text("persist_to: data\n" + KV_YAML, encoding="utf-8")
    assert _persist_to() == with_config / "data"
    monkeypatch.setenv("WORKERHOST_PERSIST_TO", "from-env")
    assert _persist_to() == with_config / "from-env"
    assert _persist_to(persist_to="from-flag") == with_config / "from-flag"


def test_kv_yaml_is_found_through_the_flag_or_the_environment(
    with_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # not inside the project: no config up its parents
    monkeypatch.chdir(elsewhere)
    assert _persist_to() == elsewhere / ".workerhost"  # no kv.yaml here
    assert _persist_to(config=str(with_config / "kv.yaml")) == with_config / ".workerhost"  # relative to kv.yaml
    monkeypatch.setenv("WORKERHOST_CONFIG", str(with_config / "kv.yaml"))
    assert _persist_to() == with_config / ".workerhost"


def test_the_config_is_found_in_a_parent_folder_as_wrangler_finds_it(
    with_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = with_config / "src" / "deeper"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    assert _persist_to() == with_config / ".workerhost"


def test_a_named_kv_yaml_that_is_missing_is_an_error(kv: Run) -> None:
    refused = kv("namespace", "list", "--config", "absent.yaml")
    assert refused.status == 1
    assert refused.err.startswith("workerhost: error: absent.yaml: not found")


def test_a_broken_kv_yaml_is_reported_as_workerhost_dev_reports_it(kv: Run, project: Path) -> None:
    (project / "kv.yaml").write_text("workerz: []\n", encoding="utf-8")
    refused = kv("namespace", "list")
    assert refused.err.startswith("workerhost: error: kv.yaml:1: workerz is not a known key")


def test_a_binding_writes_to_its_namespace_and_creates_it_on_first_write(kv: Run, with_config: Path) -> None:
    assert kv("namespace", "list").json() == []
    assert kv("key", "put", "hits", "3", "--binding", "COUNTER").status == 0
    assert [ns["title"] for ns in kv("namespace", "list").json()] == ["counters"]
    assert kv("key", "get", "hits", "--binding", "COUNTER").out == b"3"
    kv("key", "put", "l", "x", "--binding", "LINKS")
    assert {ns["id"] for ns in kv("namespace", "list").json() if ns["title"] == "links"} == {LINKS_ID}
    assert kv("key", "get", "l", "--namespace-id", LINKS_ID).out == b"x"


def test_a_declared_namespace_never_created_reads_as_empty_and_is_not_created(
    kv: Run, with_config: Path, tmp_path: Path
) -> None:
    assert kv("key", "list", "--binding", "AUDIT").out == b"[]\n"
    assert kv("key", "get", "k", "--binding", "AUDIT").err == (
        'workerhost: error: key "k" not found in binding "AUDIT" (namespace "audit")\n'
    )
    assert kv("key", "delete", "k", "--binding", "AUDIT").status == 0
    assert kv("key", "list", "--namespace-id", LINKS_ID).out == b"[]\n"
    (tmp_path / "keys.json").write_text('["a"]', encoding="utf-8")
    assert kv("bulk", "get", str(tmp_path / "keys.json"), "--binding", "AUDIT").json() == {"a": None}
    assert kv("namespace", "list").json() == []


def test_a_refused_write_does_not_create_the_declared_namespace(kv: Run, with_config: Path) -> None:
    assert kv("key", "put", "k", "v", "--ttl", "1", "--binding", "COUNTER").status == 1
    assert kv("namespace", "list").json() == []


def test_an_ambiguous_binding_names_both_workers(kv: Run, with_config: Path) -> None:
    text = (
        (with_config / "kv.yaml")
        .read_text()
        .replace("{binding: AUDIT, namespace: audit}", "{binding: LINKS, namespace: audit}")
    )
    (with_config / "kv.yaml").write_text(text)
    refused = kv("key", "list", "--binding", "LINKS")
    assert refused.err == (
        'workerhost: error: binding "LINKS" is ambiguous: worker "app" binds it to namespace "links" and worker '
        '"admin" binds it to namespace "audit"; use --namespace-id to say which\n'
    )


def test_a_binding_bound_twice_to_the_same_namespace_is_not_ambiguous(kv: Run, with_config: Path) -> None:
    assert kv("key", "list", "--binding", "COUNTER").status == 0


def test_an_unknown_binding_lists_the_known_ones(kv: Run, with_config: Path) -> None:
    refused = kv("key", "list", "--binding", "NOPE")
    assert (
        refused.err
        == 'workerhost: error: no worker in kv.yaml has a KV binding "NOPE"; bindings: AUDIT, COUNTER, LINKS\n'
    )


def test_a_binding_needs_kv_yaml(kv: Run) -> None:
    refused = kv("key", "list", "--binding", "COUNTER")
    assert refused.err == (
        "workerhost: error: --binding COUNTER needs kv.yaml to look it up in; pass --config, or use --namespace-id\n"
    )


def test_an_unknown_namespace_id_is_one_line(kv: Run, project: Path) -> None:
    refused = kv("key", "list", "--namespace-id", "0" * 32)
    assert refused.err == (
        f'workerhost: error: no namespace has the id "{"0" * 32}" in {where_data_is(project / ".workerhost")}; '
        "`workerhost kv namespace list` shows the namespaces there\n"
    )


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("0", False), ("off", False), ("1", True)])
def test_the_store_honours_workerhost_read_cache(project: Path, value: str | None, enabled: bool) -> None:
    environ = {} if value is None else {"WORKERHOST_READ_CACHE": value}
    session = Session.from_args(argparse.Namespace(config=None, persist_to=None), environ)
    assert isinstance(session.store, KeyedStore) and isinstance(session.store.inner, SqliteStore)
    assert (session.store.inner.root, session.store.inner.read_cache) == (project / ".workerhost", enabled)
