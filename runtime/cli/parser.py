"""The argument parser every ``workerhost`` command uses: errors in the words of the command they are about.

Plain argparse reports an unknown flag of ``workerhost kv key get`` with the usage of ``workerhost``
itself. Here the command whose arguments are wrong says so, with its own usage and a "did you mean"
for a misspelled flag or subcommand, as click does::

    usage: workerhost kv key get [-h] [--config FILE] ... KEY
    workerhost kv key get: error: unrecognized arguments: --bindng (did you mean --binding?)
"""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["CommandParser", "VersionAction", "version"]

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` (subcommands get the same class) whose errors suggest what was meant."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args is not None and not self._has_subcommands():
            # Before argparse checks required arguments: a misspelled --binding is the real problem.
            unknown = self._unknown_flags(list(args))
            if unknown:
                self.error(f"unrecognized arguments: {' '.join(unknown)}{self._suggest(unknown)}")
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and not self._has_subcommands():
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggest(extras)}")
        return parsed, extras

    def _unknown_flags(self, args: list[str]) -> list[str]:
        flags = {flag for action in self._actions for flag in action.option_strings}
        unknown = []
        for arg in args:
            if arg == "--":
                break
            if not arg.startswith("--"):
                continue
            name = arg.partition("=")[0]
            if name not in flags and not [flag for flag in flags if flag.startswith(name)]:
                unknown.append(arg)
        return unknown

    def _has_subcommands(self) -> bool:
        return any(isinstance(action, argparse._SubParsersAction) for action in self._actions)

    def _suggest(self, extras: list[str]) -> str:
        flags = [flag for action in self._actions for flag in action.option_strings if flag.startswith("--")]
        for extra in extras:
            if extra.startswith("-"):
                close = difflib.get_close_matches(extra.partition("=")[0], flags, n=1, cutoff=0.6)
                if close:
                    return f" (did you mean {close[0]}?)"
        return ""

    def error(self, message: str) -> NoReturn:
        found = _INVALID_CHOICE.search(message)
        if found is not None:
            choices = [choice.strip().strip("'") for choice in found.group(2).split(",")]
            close = difflib.get_close_matches(found.group(1), choices, n=1, cutoff=0.5)
            if close:
                message = f'{message} (did you mean "{close[0]}"?)'
        super().error(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        super().exit(status, message)


class VersionAction(argparse.Action):
    """``--version``: looked up only when asked for (importlib.metadata is slow to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: Any, values: Any, option: str | None = None) -> None:
        print(f"workerhost {version()}")  # on stdout, as argparse's own version action prints it
        parser.exit()


def version() -> str:
    """workerhost's installed version."""
    from importlib.metadata import PackageNotFoundError, version as installed

    try:
        return installed("workerhost")
    except PackageNotFoundError:
        return "unknown (not installed)"
