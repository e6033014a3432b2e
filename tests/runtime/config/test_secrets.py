from __future__ import annotations

from pathlib import Path

from runtime.config.dotenv import read_dev_vars


def test_missing_dev_vars_means_no_secrets(tmp_path: Path) -> None:
    assert len(read_dev_vars(tmp_path / ".dev.vars", ".dev.vars")) == 0


def test_redact_replaces_values_and_repr_shows_names_only(tmp_path: Path) -> None:
    path = tmp_path / ".dev.vars"
    path.write_text("TOKEN=abcd1234\nPIN=7\n")
    secrets = read_dev_vars(path, ".dev.vars")
    assert secrets.redact("token abcd1234 and 7") == "token [secret] and 7"
    assert repr(secrets) == "Secrets(['PIN', 'TOKEN'])"


def test_dev_vars_parses_dotenv_lines(tmp_path: Path) -> None:
    path = tmp_path / ".dev.vars"
    path.write_text("# comment\n\nexport A=1\nB = two words # note\nC=\"x\\ny\"\nD='#raw'\nE=\n")
    secrets = read_dev_vars(path, ".dev.vars")
    assert dict(secrets) == {"A": "1", "B": "two words", "C": "x\ny", "D": "#raw", "E": ""}
    assert secrets.lines["C"] == 5
