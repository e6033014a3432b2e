"""The startup banner of ``workerhost dev``: each worker's routes and bindings, and where the data lives.

Like wrangler dev's binding table, it lists every ``env`` name; a secret shows as hidden, never its value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config.storage import describe_storage, is_sqlite

if TYPE_CHECKING:
    from ..host.state import Host
    from ..host.versions import LoadedWorker

__all__ = ["render_banner"]

_VAR_LIMIT = 40


def _var(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= _VAR_LIMIT else text[: _VAR_LIMIT - 3] + "..."


def render_banner(host: Host, url: str) -> str:
    """The banner text for ``host`` serving at ``url``."""
    config = host.config
    version = host.version
    lines = [f"workerhost dev  {config.source}  (version {version.number if version else '-'})", ""]
    workers = list(version.workers.values()) if version else []
    if not workers:
        lines.append("  no workers configured: add some under workers: in kv.yaml")
    for worker in workers:
        lines.append(f"  {worker.name}  {worker.config.script_display}  ({worker.shape})")
        lines.append(f"    routes    {', '.join(worker.config.routes)}")
        names = [f"env.{name}" for name in worker.env]
        width = max((len(name) for name in names), default=0)
        for name in worker.env:
            lines.append(f"    {f'env.{name}':<{width}}  {_describe(worker, name)}")
        if worker.config.crons:
            lines.append(f"    crons     {', '.join(worker.config.crons)}")
        lines.append("")
    namespaces = len(config.kv_namespaces)
    sqlite = is_sqlite(config.storage)
    where = config.persist_to / "kv" if sqlite else describe_storage(config.storage, config.persist_to)
    lines.append(f"KV data    {where}  ({namespaces} namespace{'s' if namespaces != 1 else ''})")
    warning = None if host.durability is None else host.durability.warning()
    if warning is not None:
        lines.append(f"WARNING    {warning}")
    if config.secrets:
        lines.append(f"Secrets    {config.secrets.source}  ({len(config.secrets)}, values hidden)")
    lines.append(f"Reload     {'on: watching scripts, kv.yaml and .dev.vars' if config.reload else 'off'}")
    if config.processes > 1:
        lines.append(f"Processes  {config.processes}, sharing the port and the KV data (--workers)")
    # With tokens configured the dev routes take one, as the REST API does (README, "Hot reload and dev routes").
    token = "" if config.api.open else "   (API token needed)"
    lines.append(f"Dev        {url}/__workerhost/status   {url}/__scheduled?worker=NAME&cron=...{token}")
    lines.append(f"Ready on {url}")
    return "\n".join(lines)


def _describe(worker: LoadedWorker, name: str) -> str:
    if name in worker.namespaces:
        info = worker.namespaces[name]
        return f'KV namespace "{info.title}" ({info.id})'
    if name in worker.version.config.secrets:
        return "secret (value hidden)"
    return f"var {_var(worker.env[name])}"
