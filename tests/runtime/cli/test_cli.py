from __future__ import annotations

from pathlib import Path

import pytest

from runtime.cli import command as cli
from runtime.config import RuntimeConfig
from tests.support import write_files


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[RuntimeConfig]:
    calls: list[RuntimeConfig] = []
    monkeypatch.setattr("runtime.server.serve", lambda config: calls.append(config))
    return calls


def test_dev_passes_flags_to_the_config(tmp_path: Path, served: list[RuntimeConfig]) -> None:
    write_files(tmp_path, {"kv.yaml": ""})
    argv = [
        "dev",
        "--config",
        str(tmp_path / "kv.yaml"),
        "--host",
        "::1",
        "--port",
        "9999",
        "--persist-to",
        str(tmp_path / "d"),
        "--no-reload",
    ]
    assert cli.main(argv) == 0
    (config,) = served
    assert (config.host, config.port, config.persist_to, config.reload) == ("::1", 9999, tmp_path / "d", False)


def test_dev_reads_settings_from_the_environment(
    tmp_path: Path, served: list[RuntimeConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path, {"kv.yaml": ""})
    monkeypatch.setenv("WORKERHOST_CONFIG", str(tmp_path / "kv.yaml"))
    monkeypatch.setenv("WORKERHOST_PORT", "9100")
    monkeypatch.setenv("WORKERHOST_NO_RELOAD", "yes")
    assert cli.main(["dev"]) == 0
    assert (served[0].port, served[0].reload) == (9100, False)


def test_errors_become_one_message_and_exit_status_1(
    tmp_path: Path, served: list[RuntimeConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, {"kv.yaml": "workerz: []\n"})
    assert cli.main(["dev", "--config", str(tmp_path / "kv.yaml")]) == 1
    assert capsys.readouterr().err == (
        f"workerhost: error: {tmp_path / 'kv.yaml'}:1: workerz is not a known key; expected one of: account_id, "
        'persist_to, storage, encryption, kv_namespaces, workers, api, fidelity (did you mean "workers"?)\n'
    )
    assert served == []


def test_help_names_each_flags_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["dev", "--help"])
    out = capsys.readouterr().out
    for env in (
        "WORKERHOST_CONFIG",
        "WORKERHOST_HOST",
        "WORKERHOST_PORT",
        "WORKERHOST_PERSIST_TO",
        "WORKERHOST_NO_RELOAD",
        "WORKERHOST_MAX_DB_PAGES",
        "WORKERHOST_IMPORT_TIMEOUT",
        "WORKERHOST_HEADER_TIMEOUT",
        "WORKERHOST_IDLE_TIMEOUT",
    ):
        assert env in out


def test_subcommand_groups_register_from_their_own_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "cli_extra.py": """
        def register(subparsers):
            parser = subparsers.add_parser("extra")
            parser.set_defaults(func=lambda args: 7)
    """
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ("cli_extra", "runtime.cli_not_built_yet"))
    assert cli.main(["extra"]) == 7


def test_dev_starts_without_importing_the_other_groups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_files(tmp_path, {"kv.yaml": ""})
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ("a_group_that_must_not_load",))
    monkeypatch.setattr("runtime.server.serve", lambda config: None)
    assert cli.main(["dev", "--config", str(tmp_path / "kv.yaml")]) == 0
