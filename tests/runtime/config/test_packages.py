from __future__ import annotations

import sys
from pathlib import Path

from runtime.config import load_config
from runtime.config.packages import install_command, missing_packages
from runtime.host.reload import watch_targets
from tests.support import write_files


def test_missing_dependencies_are_named_with_the_pip_command(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "w"\ndependencies = ["httpx>=0.1", "surely-not-installed-pkg==1.0", "workers-py"]\n'
    )
    missing = missing_packages(tmp_path / "pyproject.toml")
    assert missing == ["surely-not-installed-pkg==1.0"]  # httpx is installed; workers-py is provided
    assert install_command(missing) == f"{sys.executable} -m pip install surely-not-installed-pkg==1.0"
    assert missing_packages(tmp_path / "absent.toml") == []


def test_every_secret_file_of_a_wrangler_project_is_watched(tmp_path: Path) -> None:
    write_files(tmp_path, {"wrangler.toml": 'main = "src/entry.py"\n[env.staging]\n', "src/entry.py": ""})
    config = load_config(tmp_path / "wrangler.toml", environ={}, overrides={"env": "staging"})
    targets = watch_targets(config)
    for name in ("wrangler.toml", ".dev.vars", ".dev.vars.staging", ".env", ".env.local", ".env.staging"):
        assert targets.relevant(str(tmp_path / name)), name
    assert targets.relevant(str(tmp_path / "src" / "helper.py"))
