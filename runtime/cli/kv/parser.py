"""``workerhost kv ...``: Workers KV from the command line, straight on the store.

No server is needed, and a running ``workerhost dev`` sees every write at once (and the CLI sees
the server's): both open the same SQLite files, or the same Redis server (``--storage``). This
module only declares the arguments; each command lives in a module of ``runtime.cli.kv`` and is
imported when it runs, so ``workerhost kv`` starts without importing Starlette or uvicorn.

    workerhost kv namespace create|list|rename|delete
    workerhost kv key put|get|list|delete     (--binding NAME | --namespace-id ID)
    workerhost kv bulk put|delete|get FILE    (--binding NAME | --namespace-id ID)
    workerhost kv export NAMESPACE [-o FILE]
    workerhost kv import NAMESPACE FILE
    workerhost kv rekey [--old-key-file FILE | --old-key-env NAME] [--decrypt]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bindings.digits import whole_number
from bindings.limits import MAX_SAFE_INTEGER

from ...config import DEFAULT_PERSIST_TO

__all__ = ["register"]

_NAMESPACE_ARG = "a namespace title or id"


def _command(module: str, name: str, *, check_key: bool = True) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from .run import run_command

        return run_command(module, name, args, check_key=check_key)

    return run


def _positive(text: str) -> int:
    # Any number of keys a namespace can hold; more digits than that are refused unconverted.
    number = whole_number(text, 1, MAX_SAFE_INTEGER)
    if number is None:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_SAFE_INTEGER}, got {_shown(text)}")
    return number


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"


def _common() -> argparse.ArgumentParser:
    # Where the data is, found as `workerhost dev` finds it (same flags, variables and precedence).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="FILE",
        help="the config, for --binding and persist_to (env WORKERHOST_CONFIG; default: kv.yaml, wrangler.jsonc, "
        "wrangler.json or wrangler.toml, here or in the nearest parent that has one)",
    )
    common.add_argument(
        "--persist-to",
        metavar="DIR",
        help="where KV data lives (env WORKERHOST_PERSIST_TO; default: kv.yaml's persist_to, "
        f"else {DEFAULT_PERSIST_TO} beside the config, or in the current directory without one)",
    )
    common.add_argument(
        "--env", metavar="NAME", help="the wrangler environment ([env.NAME]) whose bindings to use (env WORKERHOST_ENV)"
    )
    common.add_argument("--local", action="store_true", help="accepted for wrangler's sake: workerhost is always local")
    common.add_argument(
        "--remote", action="store_true", help="refused: use wrangler itself for Cloudflare's (or this host's) REST API"
    )
    common.add_argument(
        "--storage",
        metavar="URL",
        help="the KV store, if not SQLite in the persist directory: e.g. redis://host:6379/0, shared with "
        "every host using it (env WORKERHOST_STORAGE; default: kv.yaml's storage)",
    )
    common.add_argument(
        "--kv-key-file",
        metavar="FILE",
        help="a file holding the key KV data is encrypted with at rest (env WORKERHOST_KV_KEY_FILE; default: "
        "kv.yaml's encryption, else unencrypted)",
    )
    return common


def _targeted(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    targeted = argparse.ArgumentParser(add_help=False, parents=[common])
    which = targeted.add_argument_group("namespace (one of)").add_mutually_exclusive_group(required=True)
    which.add_argument("--binding", metavar="NAME", help="the namespace a worker in the config binds as NAME")
    which.add_argument("--namespace-id", metavar="ID", help="the namespace with this id")
    preview = targeted.add_mutually_exclusive_group()
    preview.add_argument(
        "--preview", dest="preview", action="store_const", const=True, help="with --binding: its preview_id namespace"
    )
    preview.add_argument(
        "--no-preview", dest="preview", action="store_const", const=False, help="with --binding: its id namespace"
    )
    return targeted


def _leaf(group: Any, name: str, parent: argparse.ArgumentParser, help_text: str, run: tuple[str, str]) -> Any:
    parser = group.add_parser(name, parents=[parent], help=help_text, description=help_text[0].upper() + help_text[1:])
    parser.set_defaults(func=_command(*run))
    return parser


def _add_namespace(groups: Any, common: argparse.ArgumentParser) -> None:
    parser = groups.add_parser("namespace", help="create, list, rename and delete namespaces")
    group = parser.add_subparsers(dest="kv_action", metavar="ACTION", required=True)
    create = _leaf(group, "create", common, "create a namespace and print it", ("namespaces", "create"))
    create.add_argument("title", metavar="TITLE")
    create.add_argument("--id", metavar="ID", help="a fixed id (32 lowercase hex digits); random by default")
    _leaf(group, "list", common, "print every namespace as a JSON array", ("namespaces", "list_namespaces"))
    rename = _leaf(group, "rename", common, "give a namespace a new title", ("namespaces", "rename"))
    rename.add_argument("namespace", metavar="NAMESPACE", help=_NAMESPACE_ARG)
    rename.add_argument("new_title", metavar="NEW_TITLE")
    delete = _leaf(group, "delete", common, "delete a namespace and every key in it", ("namespaces", "delete"))
    delete.add_argument("namespace", metavar="NAMESPACE", help=_NAMESPACE_ARG)
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask first (it asks only at a terminal)")


def _add_key(groups: Any, targeted: argparse.ArgumentParser) -> None:
    parser = groups.add_parser("key", help="write, read, list and delete single keys")
    group = parser.add_subparsers(dest="kv_action", metavar="ACTION", required=True)
    put = _leaf(group, "put", targeted, "write one value", ("keys", "put"))
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE", nargs="?", help="the value (or use --path)")
    put.add_argument("--path", metavar="FILE", help="read the value from FILE (- for stdin); binary is fine")
    put.add_argument("--ttl", metavar="SECONDS", help="expire the key this many seconds from now (at least 60)")
    put.add_argument("--expiration", metavar="EPOCH", help="expire the key at this time (seconds since the epoch)")
    put.add_argument("--metadata", metavar="JSON", help="metadata to store with the key, as JSON (up to 1024 bytes)")
    get = _leaf(group, "get", targeted, "write a value's raw bytes to stdout", ("keys", "get"))
    get.add_argument("key", metavar="KEY")
    get.add_argument("--metadata", action="store_true", help="print the key's metadata as JSON instead")
    get.add_argument("--text", action="store_true", help="print the value as UTF-8 text, with a newline")
    listing = _leaf(group, "list", targeted, "print the keys as a JSON array", ("keys", "list_keys"))
    listing.add_argument("--prefix", metavar="PREFIX", help="only keys that start with PREFIX")
    listing.add_argument("--limit", metavar="N", type=_positive, help="at most N keys (default: all)")
    delete = _leaf(group, "delete", targeted, "delete one key (a missing key is not an error)", ("keys", "delete"))
    delete.add_argument("key", metavar="KEY")


def _add_bulk(groups: Any, targeted: argparse.ArgumentParser) -> None:
    parser = groups.add_parser("bulk", help="write, delete and read many keys from a wrangler bulk JSON file")
    group = parser.add_subparsers(dest="kv_action", metavar="ACTION", required=True)
    put = _leaf(
        group,
        "put",
        targeted,
        'write the pairs of a JSON array of {"key", "value", "expiration"?, "expiration_ttl"?, "metadata"?, '
        '"base64"?}; a bad item writes nothing',
        ("bulk", "put"),
    )
    put.add_argument("file", metavar="FILE", help="the JSON file (- for stdin)")
    delete = _leaf(
        group, "delete", targeted, 'delete the keys of a JSON array of names (or {"name"} objects)', ("bulk", "delete")
    )
    delete.add_argument("file", metavar="FILE", help="the JSON file (- for stdin)")
    delete.add_argument(
        "-f",
        "--force",
        "-y",
        "--yes",
        dest="force",
        action="store_true",
        help="do not ask first (it asks at a terminal)",
    )
    get = _leaf(
        group,
        "get",
        targeted,
        'print the values of a JSON array of names (or {"name"} objects) as a JSON object; missing keys are null',
        ("bulk", "get"),
    )
    get.add_argument("file", metavar="FILE", help="the JSON file (- for stdin)")
    get.add_argument("--metadata", action="store_true", help='give each key as {"value", "metadata", "expiration"?}')
    get.add_argument("--base64", action="store_true", help="print values base64-encoded (needed for binary values)")


def _add_dump(groups: Any, common: argparse.ArgumentParser) -> None:
    export = _leaf(
        groups,
        "export",
        common,
        "write a whole namespace (values, metadata, expirations) as JSON Lines",
        ("dump", "export"),
    )
    export.add_argument("namespace", metavar="NAMESPACE", help=_NAMESPACE_ARG)
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    load = _leaf(
        groups,
        "import",
        common,
        "write every key of an export into a namespace (created if no namespace has that title)",
        ("dump", "import_"),
    )
    load.add_argument("namespace", metavar="NAMESPACE", help=_NAMESPACE_ARG)
    load.add_argument("file", metavar="FILE", help="an export (- for stdin)")


def _add_rekey(groups: Any, common: argparse.ArgumentParser) -> None:
    help_text = (
        "encrypt the KV data with the configured key (kv.yaml's encryption, --kv-key-file), move it from an old "
        "key to it, or decrypt it (--decrypt); a rekey cut short is finished by running it again"
    )
    parser = groups.add_parser(
        "rekey", parents=[common], help=help_text, description=help_text[0].upper() + help_text[1:]
    )
    old = parser.add_mutually_exclusive_group()
    old.add_argument("--old-key-file", metavar="FILE", help="a file holding the key the data is encrypted with now")
    old.add_argument("--old-key-env", metavar="NAME", help="an environment variable holding that key")
    parser.add_argument(
        "--decrypt", action="store_true", help="store the data unencrypted (when no key is configured)"
    )
    parser.set_defaults(func=_command("rekey", "rekey_store", check_key=False))


def register(subparsers: Any) -> None:
    """Add the ``kv`` command group to ``workerhost``."""
    parser = subparsers.add_parser(
        "kv",
        help="read and write KV data (no server needed)",
        description="Read and write KV namespaces on disk. A running `workerhost dev` sees the changes at once.",
    )
    groups = parser.add_subparsers(dest="kv_group", metavar="GROUP", required=True)
    common = _common()
    targeted = _targeted(common)
    _add_namespace(groups, common)
    _add_key(groups, targeted)
    _add_bulk(groups, targeted)
    _add_dump(groups, common)
    _add_rekey(groups, common)
