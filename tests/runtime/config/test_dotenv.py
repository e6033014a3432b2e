"""Secret files found and read as wrangler dev reads them, through python-dotenv's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config.dotenv import read_secrets
from runtime.errors import ConfigError
from tests.support import write_files


def test_dev_vars_takes_quotes_multi_line_values_and_escapes_literally(tmp_path: Path) -> None:
    (tmp_path / ".dev.vars").write_text(
        'KEY="-----BEGIN-----\nabc\n-----END-----"\nA=1 # note\nB=\'${A} stays\'\nC="x\\ny"\nexport D=d\n'
    )
    secrets = read_secrets(tmp_path, None, {})
    assert dict(secrets) == {
        "KEY": "-----BEGIN-----\nabc\n-----END-----",
        "A": "1",
        "B": "${A} stays",
        "C": "x\ny",
        "D": "d",
    }
    assert (secrets.lines["A"], secrets.where("C")) == (4, ".dev.vars:6")


def test_the_env_specific_dev_vars_wins_alone(tmp_path: Path) -> None:
    write_files(tmp_path, {".dev.vars": "A=base\nB=base\n", ".dev.vars.staging": "A=staging\n", ".env": "C=env\n"})
    assert dict(read_secrets(tmp_path, "staging", {})) == {"A": "staging"}
    assert dict(read_secrets(tmp_path, "production", {})) == {"A": "base", "B": "base"}  # no .dev.vars.production


def test_env_files_merge_in_wranglers_order_and_expand_references(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            ".env": "HOST=example.com\nURL=https://${HOST}/api\nLEVEL=info\nPRICE=\\$5\n",
            ".env.local": "LEVEL=debug\n",
            ".env.staging": "HOST=staging.example.com\nFULL=${URL}?env=staging\nFALLBACK=${MISSING:-none}\n",
            ".env.staging.local": "LEVEL=trace\n",
        },
    )
    secrets = read_secrets(tmp_path, "staging", {"HOME": "/root"})
    assert dict(secrets) == {
        "HOST": "staging.example.com",
        "URL": "https://staging.example.com/api",
        "LEVEL": "trace",
        "PRICE": "$5",
        "FULL": "https://staging.example.com/api?env=staging",
        "FALLBACK": "none",
    }
    assert (secrets.where("HOST"), secrets.where("LEVEL")) == (".env.staging:1", ".env.staging.local:1")


def test_process_environment_joins_only_when_asked_and_env_files_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PATHS=${HOME}/x\n")
    assert dict(read_secrets(tmp_path, None, {"HOME": "/root"})) == {"PATHS": "/x"}
    included = read_secrets(tmp_path, None, {"HOME": "/root", "CLOUDFLARE_INCLUDE_PROCESS_ENV": "true"})
    assert (included["PATHS"], included["HOME"]) == ("/root/x", "/root")
    assert dict(read_secrets(tmp_path, None, {"CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV": "false"})) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\nsecretvalue\n", ".dev.vars:2: expected NAME=value, but the line has no '='"),
        ('A=1\nB="never closed\n', ".dev.vars:2: this line is not NAME=value dotenv syntax (check its quotes)"),
        ("A-B=1\n", ".dev.vars:1: 'A-B' is not a variable name; expected letters, digits and _"),
    ],
)
def test_a_bad_line_is_named_by_its_number_never_its_text(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / ".dev.vars").write_text(text)
    with pytest.raises(ConfigError) as info:
        read_secrets(tmp_path, None, {})
    assert str(info.value) == message
