"""The ``workerhost`` command line: ``workerhost dev`` now, more subcommand groups beside it.

Each group registers itself on the subparsers: ``dev`` is defined here, and a module listed in
``SUBCOMMAND_MODULES`` (``runtime.cli.kv.parser`` for ``workerhost kv ...``) adds its own with a
``register(subparsers)`` function, setting ``func`` to a callable taking the parsed args and
returning an exit status. Our errors become one message on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..config import SETTINGS, RuntimeConfig, load_config
from ..errors import WorkerhostError
from .parser import CommandParser, VersionAction

__all__ = ["SUBCOMMAND_MODULES", "build_parser", "main"]

SUBCOMMAND_MODULES = ("runtime.cli.kv.parser",)


def _registrars() -> Iterator[Callable[[Any], None]]:
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that group is not built yet; anything else missing is a real error
                continue
            raise
        yield module.register


def _add_dev(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev",
        help="serve the workers of kv.yaml or a wrangler config, hot-reloading on changes",
        description="Serve every worker of the config (kv.yaml, wrangler.jsonc, wrangler.json or wrangler.toml) "
        "on http://127.0.0.1:8787, reloading when files change.",
    )
    for setting in SETTINGS:
        default = "" if setting.default is None else f"; default {setting.default}"
        help_text = f"{setting.help} (env {setting.env}{default})"
        if isinstance(setting.default, bool):
            parser.add_argument(setting.flag, dest=setting.name, action="store_const", const=True, help=help_text)
        else:
            metavar = setting.name.upper().replace("_", "")
            parser.add_argument(setting.flag, dest=setting.name, metavar=metavar, help=help_text)
    parser.set_defaults(func=_dev)


def _dev(args: argparse.Namespace) -> int:
    from ..config.yamlcache import ParseCache, parse_cache_dir
    from ..server import serve

    overrides = {setting.name: getattr(args, setting.name) for setting in SETTINGS}
    # Parsed kv.yaml documents are kept, so an unchanged file starts without importing PyYAML.
    config = load_config(overrides=overrides, parse_cache=ParseCache(parse_cache_dir()))
    _say_before_start(config)
    serve(config)
    return 0


def _say_before_start(config: RuntimeConfig) -> None:
    # Said before the workers load: a missing package would otherwise surface only as an ImportError.
    from ..config.packages import install_command, missing_packages

    for warning in config.warnings:
        print(f"workerhost: warning: {warning}", file=sys.stderr)
    missing = missing_packages(config.path.parent / "pyproject.toml")
    if missing:
        print(
            f"workerhost: warning: pyproject.toml lists packages this Python lacks: {', '.join(missing)}; "
            f"install them with:\n  {install_command(missing)}",
            file=sys.stderr,
        )


def build_parser(groups: bool = True) -> argparse.ArgumentParser:
    """The argument parser with every subcommand group registered (only ``dev`` if ``groups`` is False)."""
    parser = CommandParser(prog="workerhost", description="A local runtime for Python Worker scripts.")
    parser.add_argument("--version", action=VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_dev(subparsers)
    if groups:
        for register in _registrars():
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # `workerhost dev` is timed from start to first response: the other groups are not even imported.
    args = build_parser(groups=argv[:1] != ["dev"]).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except WorkerhostError as exc:
        print(f"workerhost: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C after a graceful shutdown
        return 0
