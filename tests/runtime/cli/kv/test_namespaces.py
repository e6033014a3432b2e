from __future__ import annotations

from pathlib import Path

import pytest

from tests.redis_fixtures import where_data_is

from .conftest import Run


def test_create_prints_the_namespace_and_list_shows_every_one_as_json(kv: Run) -> None:
    created = kv("namespace", "create", "zebra")
    assert created.status == 0 and created.err == ""
    zebra = created.json()
    assert zebra["title"] == "zebra" and len(zebra["id"]) == 32 and zebra["supports_url_encoding"] is True
    kv("namespace", "create", "apple", "--id", "0123456789abcdef0123456789abcdef")
    listed = kv("namespace", "list")
    assert listed.json() == [
        {"id": "0123456789abcdef0123456789abcdef", "title": "apple", "supports_url_encoding": True},
        zebra,
    ]
    # One namespace per line: readable on a terminal, still one JSON document for jq.
    assert listed.text.splitlines()[0] == "["


def test_list_of_an_empty_store_is_an_empty_array(kv: Run) -> None:
    assert kv("namespace", "list").out == b"[]\n"


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("taken", 'a namespace titled "taken" already exists; titles are unique'),
        ("  ", "a namespace needs a title that is not blank"),
        ("x" * 513, "title must be at most 512 characters, got 513"),
    ],
)
def test_create_refuses_a_bad_title_in_one_line(kv: Run, title: str, message: str) -> None:
    kv("namespace", "create", "taken")
    refused = kv("namespace", "create", title)
    assert (refused.status, refused.out, refused.err) == (1, b"", f"workerhost: error: {message}\n")
    assert len(kv("namespace", "list").json()) == 1


def test_create_refuses_a_malformed_id(kv: Run) -> None:
    refused = kv("namespace", "create", "t", "--id", "../etc")
    assert refused.err == "workerhost: error: namespace id must be 32 lowercase hex digits, got '../etc'\n"


def test_rename_and_delete_take_a_title_or_an_id(kv: Run, namespace_id: str) -> None:
    renamed = kv("namespace", "rename", "data", "fresh")
    assert renamed.json() == {"id": namespace_id, "title": "fresh", "supports_url_encoding": True}
    assert kv("namespace", "rename", namespace_id, "again").json()["title"] == "again"
    deleted = kv("namespace", "delete", "again")
    assert (deleted.status, deleted.err) == (0, f'deleted namespace "again" ({namespace_id})\n')
    kv("namespace", "create", "other")
    other = kv("namespace", "list").json()[0]["id"]
    assert kv("namespace", "delete", other).status == 0
    assert kv("namespace", "list").json() == []


def test_rename_to_a_taken_title_changes_nothing(kv: Run, namespace_id: str) -> None:
    kv("namespace", "create", "other")
    refused = kv("namespace", "rename", "data", "other")
    assert refused.err == 'workerhost: error: a namespace titled "other" already exists; titles are unique\n'
    assert {ns["title"] for ns in kv("namespace", "list").json()} == {"data", "other"}


def test_an_unknown_namespace_is_one_line_and_exit_status_1(kv: Run, project: Path) -> None:
    refused = kv("namespace", "delete", "nope")
    assert refused.status == 1
    assert refused.err == (
        f'workerhost: error: no namespace has the title or id "nope" in {where_data_is(project / ".workerhost")}; '
        "`workerhost kv namespace list` shows the namespaces there\n"
    )


def test_delete_asks_first_at_a_terminal(kv: Run, namespace_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["n", "y"])
    kv("namespace", "list")  # the stdin below is a terminal from here on
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    kept = kv("namespace", "delete", "data")
    assert (kept.status, kept.err) == (1, "not deleted\n")
    assert kv("namespace", "delete", "data").status == 0
    kv("namespace", "create", "data")
    assert kv("namespace", "delete", "data", "--yes").status == 0  # no third answer is needed


def test_deleting_a_declared_namespace_warns_that_dev_recreates_it(kv: Run, with_config: Path) -> None:
    assert kv("key", "put", "k", "v", "--binding", "AUDIT").status == 0
    deleted = kv("namespace", "delete", "audit")
    assert deleted.err.endswith(
        "note: kv.yaml declares it, so workerhost dev will create it again, empty, when it next starts\n"
    )


def test_renaming_a_namespace_declared_by_title_warns(kv: Run, with_config: Path) -> None:
    kv("key", "put", "k", "v", "--binding", "AUDIT")
    renamed = kv("namespace", "rename", "audit", "audit-old")
    assert renamed.status == 0
    assert 'declares the namespace "audit" by its title' in renamed.err


def test_a_declared_namespace_never_created_cannot_be_renamed(kv: Run, with_config: Path) -> None:
    refused = kv("namespace", "rename", "audit", "x")
    assert refused.err == (
        'workerhost: error: namespace "audit" is declared in kv.yaml but was never created; '
        "there is nothing to rename\n"
    )
