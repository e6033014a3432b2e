"""The README keeps its promises: one run command, one test command that CI runs, and example code
that is the repo's real code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _sh_blocks() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_readme_has_exactly_one_run_and_one_test_command() -> None:
    blocks = _sh_blocks()
    assert len(blocks) == 2, blocks
    run, test = blocks
    assert run.endswith("workerhost dev") and "pip install" in run
    assert test.endswith("pytest") and "pip install" in test


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _sh_blocks()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_plugin_example_in_the_readme_is_the_counter_examples_test_file() -> None:
    source = (ROOT / "examples" / "counter" / "test_counter.py").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in README
