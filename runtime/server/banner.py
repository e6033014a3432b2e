"""The startup banner of ``workerhost dev``: each worker's routes and bindings, and where the data lives.

Like wrangler dev's binding table, it lists every ``env`` name; a secret shows as hidden, never its value,
and a binding that is not emulated shows as "not available locally". Each cron shows its next run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..config.cron import parse_cron
from ..config.storage import describe_storage, is_sqlite
from ..dashboard.routes import PAGE as DASHBOARD_PAGE

if TYPE_CHECKING:
    from ..config.model import AssetsConfig
    from ..host.state import Host
    from ..host.versions import LoadedWorker

__all__ = ["next_run", "render_banner"]

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
        assets = worker.config.assets
        if assets is not None:
            lines.append(f"    assets    {assets.directory_display}  ({_assets(assets)})")
        if worker.config.crons:
            lines.append(f"    crons     {', '.join(worker.config.crons)}  ({_next_runs(worker, host.clock.now())})")
        lines.append("")
    namespaces = len(config.kv_namespaces)
    sqlite = is_sqlite(config.storage)
    where = config.persist_to / "kv" if sqlite else describe_storage(config.storage, config.persist_to)
    lines.append(f"KV data    {where}  ({namespaces} namespace{'s' if namespaces != 1 else ''})")
    if config.encryption is not None:
        key = config.encryption
        lines.append(f"Encrypted  AES-256-GCM at rest, key {key.id} from {key.source}")
    warning = None if host.durability is None else host.durability.warning()
    if warning is not None:
        lines.append(f"WARNING    {warning}")
    if config.secrets:
        lines.append(f"Secrets    {config.secrets.source}  ({len(config.secrets)}, values hidden)")
    if config.api.rate_limit:
        lines.append("REST API   rate limit: 1,200 requests per 5 minutes per user (fidelity.api_rate_limit)")
    watched = f"on: watching scripts, {config.path.name} and secret files" if config.reload else "off"
    lines.append(f"Reload     {watched}")
    if config.processes > 1:
        lines.append(f"Processes  {config.processes}, sharing the port and the KV data (--workers)")
    # With tokens configured the dev routes take one, as the REST API does (README, "Hot reload and dev routes").
    token = "" if config.api.open else "   (API token needed)"
    lines.append(f"Dev        {url}/__workerhost/status   {url}/__scheduled?worker=NAME&cron=...{token}")
    lines.append(f"Dashboard  {url}{DASHBOARD_PAGE}{token}")
    lines.append(f"Ready on {url}")
    return "\n".join(lines)


def _describe(worker: LoadedWorker, name: str) -> str:
    if name in worker.namespaces:
        info = worker.namespaces[name]
        modes = worker.version.fidelity.settings_for(info.id).describe()
        return f'KV namespace "{info.title}" ({info.id})' + (f"  fidelity: {modes}" if modes else "")
    if name in worker.version.config.secrets:
        return "secret (value hidden)"
    assets = worker.config.assets
    if assets is not None and assets.binding == name:
        return f"assets {assets.directory_display}"
    for missing in worker.config.unavailable:
        if missing.name == name:
            return f"{missing.kind}: not available locally"
    return f"var {_var(worker.env[name])}"


def _assets(assets: AssetsConfig) -> str:
    first = assets.run_worker_first
    order = (
        "worker first" if first is True else (f"worker first for {', '.join(first)}" if first else "before the worker")
    )
    return f"{order}; html_handling {assets.html_handling}; not found: {assets.not_found_handling}"


def next_run(cron: str, now: float) -> str:
    """When ``cron`` next fires after ``now``, as ``next 2026-01-04 17:00 UTC`` (or ``never``)."""
    when = parse_cron(cron).next_after(now)
    if when is None:
        return "never: no date matches"
    return f"next {datetime.fromtimestamp(when, UTC).strftime('%Y-%m-%d %H:%M')} UTC"


def _next_runs(worker: LoadedWorker, now: float) -> str:
    return "; ".join(next_run(cron, now) for cron in worker.config.crons)
