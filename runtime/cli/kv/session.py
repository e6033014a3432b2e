"""Where a ``workerhost kv`` command works, found exactly as ``workerhost dev`` finds it.

The store is ``--storage``, then ``$WORKERHOST_STORAGE``, then kv.yaml's ``storage``, else SQLite in
the persist directory: ``--persist-to``, then ``$WORKERHOST_PERSIST_TO``, then kv.yaml's
``persist_to``, then ``.workerhost`` beside the config. The config comes from ``--config``, then
``$WORKERHOST_CONFIG``, then the first kv.yaml, wrangler.jsonc, wrangler.json or wrangler.toml here
or in the nearest parent that has one. Without a config (and none asked for by name) the command
still works on ``--storage`` or ``--persist-to`` (default ``./.workerhost``) with ``--namespace-id``.
The encryption key is ``--kv-key-file``, then ``$WORKERHOST_KV_KEY_FILE``, then kv.yaml's ``encryption``
(``runtime.config.encryption``); the store is checked against it before a command runs.

A namespace is named by ``--binding`` (looked up in the config's workers, ``--env`` choosing a
wrangler environment), ``--namespace-id``, or, for commands that take a NAMESPACE argument, a title
or an id. A wrangler binding with both ``id`` and ``preview_id`` needs ``--preview`` or
``--no-preview``, as ``wrangler kv`` does. A namespace the config declares but that was never
created (the server never ran) reads as empty and is created by the first write, as the host would
create it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bindings import SystemClock
from bindings.changes import feed_for, observed
from bindings.clock import Clock
from bindings.service import KVService
from bindings.storage import NamespaceInfo, open_store
from bindings.storage.encryption import EncryptionKey, verify_store

from ...config import (
    DEFAULT_PERSIST_TO,
    KVBindingConfig,
    KVNamespaceConfig,
    RuntimeConfig,
    load_config,
    setting_given,
)
from ...config.discovery import find_config
from ...config.encryption import resolve_key
from ...config.namespaces import ensure_namespace, find_declared
from ...config.storage import StorageChoice, describe_storage, is_sqlite, resolve_storage, storage_location
from ...errors import UsageError

__all__ = ["SOURCE", "Session", "Target"]

SOURCE = "CLI"  # who a running host's live feed says made the writes of a command

_NAMESPACE_HINT = "`workerhost kv namespace list` shows the namespaces there"


@dataclass(frozen=True)
class Target:
    """The namespace a command works on: in the store (``info``), or declared in kv.yaml but not created yet."""

    label: str  # how messages name it
    info: NamespaceInfo | None
    declared: KVNamespaceConfig | None = None

    @property
    def title(self) -> str:
        if self.info is not None:
            return self.info.title
        assert self.declared is not None
        return self.declared.title


def _resolve_config(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[RuntimeConfig | None, Path, str, EncryptionKey | None]:
    flags = {name: getattr(args, name, None) for name in ("config", "persist_to", "env", "storage", "kv_key_file")}
    # An empty flag or variable counts as not given, both when looking for the config and, without one, for the data.
    given = {name: value or None for name, value in flags.items()}
    path = setting_given("config", given, environ) or find_config(Path.cwd())
    if not path:
        chosen_dir = setting_given("persist_to", given, environ)
        persist_to = Path(chosen_dir or DEFAULT_PERSIST_TO).absolute()
        storage = setting_given("storage", given, environ)
        source = "--storage" if given["storage"] else "WORKERHOST_STORAGE"
        choice = None if storage is None else StorageChoice(storage, source, Path.cwd())
        location, persist_to = resolve_storage(choice, persist_to, environ, persist_to_given=chosen_dir is not None)
        key = resolve_key(None, given["kv_key_file"], environ, source="", base=Path.cwd())
        return None, persist_to, location, key
    overrides = {
        "persist_to": flags["persist_to"],
        "env": given["env"],
        "storage": flags["storage"],
        "kv_key_file": given["kv_key_file"],
    }
    config = load_config(path, environ=environ, overrides=overrides)
    # --max-db-pages is workerhost dev's alone: the CLI opens a SQLite store without a page cap.
    location = storage_location(config.persist_to, environ) if is_sqlite(config.storage) else config.storage
    return config, config.persist_to, location, config.encryption


class Session:
    """The store and config one command works with; ``close()`` it when done.

    Args:
        config: kv.yaml, or None when there is none.
        persist_to: the persist directory.
        storage: where the store is (``open_store``): in ``persist_to``, or a server such as Redis.
        key: the key its data is encrypted with at rest, or None.
        clock: the time expirations are judged by.
    """

    def __init__(
        self,
        config: RuntimeConfig | None,
        persist_to: Path,
        storage: str,
        key: EncryptionKey | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.persist_to = persist_to
        self.storage = storage
        self.key = key
        self.where = describe_storage(storage, persist_to)  # for messages
        self.clock: Clock = clock or SystemClock()
        self.store = open_store(storage, key=key)
        # A host watching the same store shows the command's writes in its live feed (README "Dashboard").
        self.changes = feed_for(storage, self.clock)

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Session:
        """Resolve ``--config``, ``--persist-to`` and ``--storage`` (and their environment variables) as
        ``workerhost dev`` does.

        A SQLite store honours ``WORKERHOST_READ_CACHE``; ``--max-db-pages`` is ``workerhost dev``'s alone.
        """
        environ = os.environ if environ is None else environ
        return cls(*_resolve_config(args, environ))

    async def check_key(self) -> None:
        """Check the key (or its absence) against the store; raises ``EncryptionError`` if it does not fit."""
        await verify_store(self.store)

    async def close(self) -> None:
        await self.changes.close()
        await self.store.close()

    def namespace_changed(self, op: str, info: NamespaceInfo) -> None:
        """Tell the live feed of a namespace created, renamed or deleted."""
        self.changes.namespace_changed(op, info.id, info.title, SOURCE)

    # --- naming a namespace ----------------------------------------------------------------------

    async def target(self, args: argparse.Namespace) -> Target:
        """The namespace of ``--binding NAME`` or ``--namespace-id ID``."""
        if args.binding is not None:
            bound = self._binding(args.binding, getattr(args, "preview", None))
            return await self._declared(bound, f'binding "{args.binding}"')
        namespace_id = args.namespace_id
        info = await self.store.get_namespace(namespace_id)
        if info is not None:
            return Target(f'namespace "{info.title}"', info)
        declared = self._declaration(lambda d: d.id == namespace_id)
        if declared is not None:
            return Target(f'namespace "{declared.title}"', None, declared)
        raise UsageError(f'no namespace has the id "{namespace_id}" in {self.where}; {_NAMESPACE_HINT}')

    async def named(self, text: str) -> Target:
        """The namespace a NAMESPACE argument names: an id, else a title."""
        info = await self.store.get_namespace(text) or await self.store.find_namespace(text)
        if info is not None:
            return Target(f'namespace "{info.title}"', info)
        declared = self._declaration(lambda d: text in (d.id, d.title))
        if declared is not None:
            return Target(f'namespace "{declared.title}"', None, declared)
        raise UsageError(f'no namespace has the title or id "{text}" in {self.where}; {_NAMESPACE_HINT}')

    def _declaration(self, match: Callable[[KVNamespaceConfig], bool]) -> KVNamespaceConfig | None:
        if self.config is None:
            return None
        return next((d for d in self.config.kv_namespaces if match(d)), None)

    def _binding(self, name: str, preview: bool | None = None) -> KVNamespaceConfig:
        config = self.config
        if config is None:
            raise UsageError(f"--binding {name} needs kv.yaml to look it up in; pass --config, or use --namespace-id")
        wrangler = next(
            (b for w in config.workers for b in w.kv_namespaces if b.binding == name and (b.by_id or b.by_preview_id)),
            None,
        )
        if wrangler is not None:
            return self._wrangler_binding(wrangler, preview)
        if preview is not None:
            raise UsageError(f"--preview and --no-preview need a wrangler binding with a preview_id; {name} has none")
        uses = [(w.name, b) for w in config.workers for b in w.kv_namespaces if b.binding == name]
        if not uses:
            known = sorted({b.binding for w in config.workers for b in w.kv_namespaces})
            listed = ", ".join(known) if known else "none"
            raise UsageError(f'no worker in {config.source} has a KV binding "{name}"; bindings: {listed}')
        titles = {b.title for _, b in uses}
        if len(titles) > 1:
            where = " and ".join(f'worker "{worker}" binds it to namespace "{b.title}"' for worker, b in uses)
            raise UsageError(f'binding "{name}" is ambiguous: {where}; use --namespace-id to say which')
        return next(d for d in config.kv_namespaces if d.title == uses[0][1].title)

    @staticmethod
    def _wrangler_binding(binding: KVBindingConfig, preview: bool | None) -> KVNamespaceConfig:
        # As `wrangler kv --binding` chooses: the one id there is, or the one --preview/--no-preview names.
        by_id, by_preview = binding.by_id, binding.by_preview_id
        if preview is True:
            if by_preview is None:
                raise UsageError(
                    f"No preview ID found for {binding.binding}. Add a preview_id to its kv_namespaces entry to use "
                    "a separate namespace for previews, or leave out --preview"
                )
            return by_preview
        if preview is False:
            if by_id is None:
                raise UsageError(f"No namespace ID found for {binding.binding}; give it an id, or use --preview")
            return by_id
        if by_id is not None and by_preview is not None:
            raise UsageError(
                f"{binding.binding} has both a namespace ID and a preview ID. Specify --preview (the preview_id, "
                "which workerhost dev binds) or --no-preview (the id) to avoid writing data to the wrong namespace"
            )
        found = by_preview or by_id
        assert found is not None
        return found

    async def _declared(self, declared: KVNamespaceConfig, label: str) -> Target:
        info = await find_declared(self.store, declared)
        return Target(f'{label} (namespace "{info.title if info else declared.title}")', info, declared)

    # --- opening it ------------------------------------------------------------------------------

    async def reader(self, target: Target) -> KVService | None:
        """The namespace's KV service, or None if it is declared but not created yet (it reads as empty)."""
        if target.info is None:
            return None
        # Deletes go through here too (a namespace never created has nothing to delete): the feed hears of them.
        storage = await self.store.namespace(target.info.id)
        return KVService(observed(storage, self.changes, target.info.id, SOURCE), self.clock)

    async def writer(self, target: Target) -> KVService:
        """The namespace's KV service, creating a declared namespace that does not exist yet."""
        info = target.info
        if info is None:
            assert target.declared is not None
            info = await ensure_namespace(self.store, target.declared)
        return KVService(observed(await self.store.namespace(info.id), self.changes, info.id, SOURCE), self.clock)
