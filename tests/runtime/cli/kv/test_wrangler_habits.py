"""``workerhost kv`` for wrangler users: a wrangler project's bindings, wrangler's flags, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config.wrangler import local_namespace

from .conftest import Run, write_json

WRANGLER = """
name = "app"
main = "src/entry.py"

[[kv_namespaces]]
binding = "CACHE"
id = "test-kv"

[[kv_namespaces]]
binding = "BOTH"
id = "main-ns"
preview_id = "preview-ns"
"""


@pytest.fixture
def wrangler_project(project: Path) -> Path:
    (project / "src").mkdir()
    (project / "src" / "entry.py").write_text("async def fetch(request, env, ctx): ...\n")
    (project / "wrangler.toml").write_text(WRANGLER)
    return project


def test_a_wrangler_projects_binding_is_found_from_a_subfolder(
    kv: Run, wrangler_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(wrangler_project / "src")
    assert kv("key", "put", "k", "v", "--binding", "CACHE", "--local").status == 0
    (listed,) = kv("namespace", "list").json()
    assert (listed["title"], listed["id"]) == ("test-kv", local_namespace("test-kv").id)
    assert kv("key", "get", "k", "--binding", "CACHE", "--text").out == b"v\n"


def test_preview_chooses_between_id_and_preview_id_as_wrangler_does(kv: Run, wrangler_project: Path) -> None:
    refused = kv("key", "put", "k", "v", "--binding", "BOTH")
    assert refused.status == 1 and "BOTH has both a namespace ID and a preview ID. Specify --preview" in refused.err
    assert kv("key", "put", "k", "p", "--binding", "BOTH", "--preview").status == 0
    assert kv("key", "put", "k", "m", "--binding", "BOTH", "--no-preview").status == 0
    assert kv("key", "get", "k", "--namespace-id", local_namespace("preview-ns").id).out == b"p"
    assert kv("key", "get", "k", "--namespace-id", local_namespace("main-ns").id).out == b"m"
    missing = kv("key", "get", "k", "--binding", "CACHE", "--preview")
    assert missing.err.startswith("workerhost: error: No preview ID found for CACHE.")


def test_remote_is_refused_with_a_pointer_to_wrangler(kv: Run, namespace_id: str) -> None:
    refused = kv("key", "get", "k", "--namespace-id", namespace_id, "--remote")
    assert refused.status == 1
    assert "workerhost kv works on local data only" in refused.err and "CLOUDFLARE_API_BASE_URL" in refused.err


def test_metadata_must_be_a_json_object(kv: Run, namespace_id: str) -> None:
    refused = kv("key", "put", "k", "v", "--metadata", "[1, 2]", "--namespace-id", namespace_id)
    assert refused.err == (
        'workerhost: error: --metadata must be a JSON object, like \'{"owner": "ada"}\'; got an array\n'
    )
    assert kv("key", "list", "--namespace-id", namespace_id).json() == []


def test_text_decodes_the_value(kv: Run, namespace_id: str) -> None:
    kv("key", "put", "k", "--path", "-", "--namespace-id", namespace_id, stdin="héllo".encode() + b"\xff")
    assert kv("key", "get", "k", "--text", "--namespace-id", namespace_id).out == "héllo\ufffd\n".encode()


def test_unknown_properties_of_a_bulk_file_are_warned_about(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    pairs = [{"key": "a", "value": "1", "ttl": 60}, {"key": "b", "value": "2", "ttl": 60}]
    done = kv("bulk", "put", write_json(tmp_path / "p.json", pairs), "--namespace-id", namespace_id)
    assert done.err.splitlines() == [
        f'warning: {tmp_path / "p.json"}: item 0: unknown property "ttl" is ignored; expected key, value, '
        "expiration, expiration_ttl, metadata, base64 (2 items have it)",
        'wrote 2 pairs to namespace "data"',
    ]


def test_messages_say_one_pair_and_one_key(kv: Run, namespace_id: str, tmp_path: Path) -> None:
    put = kv(
        "bulk", "put", write_json(tmp_path / "p.json", [{"key": "a", "value": "1"}]), "--namespace-id", namespace_id
    )
    assert put.err == 'wrote 1 pair to namespace "data"\n'
    deleted = kv("bulk", "delete", write_json(tmp_path / "d.json", ["a"]), "--namespace-id", namespace_id)
    assert deleted.err == 'deleted 1 key from namespace "data"\n'


def test_bulk_delete_asks_at_a_terminal_unless_forced(
    kv: Run, namespace_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kv("bulk", "put", write_json(tmp_path / "p.json", [{"key": "a", "value": "1"}]), "--namespace-id", namespace_id)
    names = write_json(tmp_path / "d.json", ["a"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or "n")
    kept = kv("bulk", "delete", names, "--namespace-id", namespace_id)
    assert (kept.status, kept.err, asked) == (1, "not deleted\n", ['Delete 1 key from namespace "data"? [y/N] '])
    assert len(kv("key", "list", "--namespace-id", namespace_id).json()) == 1
    for flag in ("--force", "-f", "-y"):
        assert kv("bulk", "delete", names, "--namespace-id", namespace_id, flag).status == 0
    assert kv("key", "list", "--namespace-id", namespace_id).json() == []
    assert len(asked) == 1


def test_a_misspelled_flag_shows_the_subcommands_usage_and_a_suggestion(kv: Run) -> None:
    refused = kv("key", "get", "k", "--bindng", "X")
    assert refused.status == 2
    usage, error = refused.err.strip().split("\n")[0], refused.err.strip().split("\n")[-1]
    assert usage.startswith("usage: workerhost kv key get ")
    assert error == "workerhost kv key get: error: unrecognized arguments: --bindng (did you mean --binding?)"
    wrong = kv("key", "lst")
    assert wrong.status == 2 and wrong.err.strip().endswith('(did you mean "list"?)')


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from runtime.cli import command

    with pytest.raises(SystemExit) as exited:
        command.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("workerhost 0.")
