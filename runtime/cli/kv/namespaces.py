"""``workerhost kv namespace create|list|rename|delete``.

Namespaces print as wrangler prints them (the REST API's shape): ``{"id", "title",
"supports_url_encoding"}``. A NAMESPACE argument is a title or an id.
"""

from __future__ import annotations

import argparse
import sys

from bindings.errors import NamespaceTitleError
from bindings.storage.base import NamespaceInfo

from ...errors import UsageError
from .output import JsonArray, json_text, note, stdout
from .session import Session

__all__ = ["create", "delete", "list_namespaces", "rename"]


def _json(info: NamespaceInfo) -> str:
    return json_text({"id": info.id, "title": info.title, "supports_url_encoding": True})


def _title_refused(exc: NamespaceTitleError, title: str) -> UsageError:
    if exc.duplicate:
        return UsageError(f"a namespace titled {json_text(title)} already exists; titles are unique")
    if exc.missing:
        return UsageError("a namespace needs a title that is not blank")
    return UsageError(str(exc))


def _print(info: NamespaceInfo) -> None:
    out = stdout()
    out.write(f"{_json(info)}\n".encode())
    out.flush()


async def create(session: Session, args: argparse.Namespace) -> int:
    """Create a namespace (``--id`` fixes its id) and print it."""
    try:
        info = await session.store.create_namespace(args.title, args.id)
    except NamespaceTitleError as exc:
        raise _title_refused(exc, args.title) from None
    session.namespace_changed("namespace_create", info)
    _print(info)
    return 0


async def list_namespaces(session: Session, args: argparse.Namespace) -> int:
    """Print every namespace, by title, as a JSON array."""
    listing = JsonArray()
    for info in await session.store.list_namespaces():
        listing.add(_json(info))
    listing.close()
    return 0


async def _existing(session: Session, text: str, doing: str) -> NamespaceInfo:
    target = await session.named(text)
    if target.info is None:
        raise UsageError(f"{target.label} is declared in kv.yaml but was never created; there is nothing to {doing}")
    return target.info


def _declared(session: Session, info: NamespaceInfo, *, by_title_only: bool) -> bool:
    config = session.config
    if config is None:
        return False
    return any(
        (d.id is None and d.title == info.title) or (not by_title_only and d.id == info.id)
        for d in config.kv_namespaces
    )


async def rename(session: Session, args: argparse.Namespace) -> int:
    """Give a namespace a new title and print it."""
    info = await _existing(session, args.namespace, "rename")
    try:
        renamed = await session.store.rename_namespace(info.id, args.new_title)
    except NamespaceTitleError as exc:
        raise _title_refused(exc, args.new_title) from None
    session.namespace_changed("namespace_rename", renamed)
    if _declared(session, info, by_title_only=True):
        note(
            f"note: kv.yaml declares the namespace {json_text(info.title)} by its title; workerhost dev will create "
            "a new, empty one with that title unless kv.yaml is updated"
        )
    _print(renamed)
    return 0


def _confirmed(info: NamespaceInfo) -> bool:
    # Asked only at a terminal; scripts (and -y) go ahead, as wrangler does when not interactive.
    if not sys.stdin.isatty():
        return True
    answer = input(f"Delete namespace {json_text(info.title)} ({info.id}) and every key in it? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def delete(session: Session, args: argparse.Namespace) -> int:
    """Delete a namespace and all its keys."""
    info = await _existing(session, args.namespace, "delete")
    if not args.yes and not _confirmed(info):
        note("not deleted")
        return 1
    await session.store.delete_namespace(info.id)
    session.namespace_changed("namespace_delete", info)
    note(f"deleted namespace {json_text(info.title)} ({info.id})")
    if _declared(session, info, by_title_only=False):
        note("note: kv.yaml declares it, so workerhost dev will create it again, empty, when it next starts")
    return 0
