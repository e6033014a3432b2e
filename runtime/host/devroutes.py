"""The host's own dev routes, under ``/__workerhost/``, plus wrangler's ``/__scheduled``.

- ``GET /__workerhost/status``: the version serving, its workers, routes and bindings, and the last
  reload error (until a reload succeeds).
- ``/__workerhost/scheduled?worker=NAME&cron=...&time=MS``: run a worker's scheduled handler now, as
  ``wrangler dev --test-scheduled`` does; ``/__scheduled?cron=...`` is wrangler's own spelling.

With API tokens configured they follow the REST API's auth (README, "REST API"), checked by the
API's own ``Authenticator``: the status route (absolute paths) needs a read or write token, running
a scheduled handler a write token; refusals are the API's 401 and 403 envelopes. Without tokens (the
loopback-only default) they are open.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..api.auth import Authenticator
from ..api.envelope import ApiError
from ..config import ApiConfig
from ..config.cron import parse_cron
from ..config.model import AssetsConfig
from ..config.secrets import Redactor
from ..config.storage import describe_storage
from .pages import not_found_page, wants_html
from .scheduler import MAX_SCHEDULED_TIME, check_scheduled_time, fire_scheduled, pick_scheduled, scheduled_cron

if TYPE_CHECKING:
    from .app import Host
    from .versions import LoadedWorker

__all__ = ["dev_routes", "not_found", "status_payload"]

_METHODS = ["GET", "POST"]
_MILLISECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?")  # ASCII digits: "²".isdigit() is True, float("²") fails
_SHOWN_LIMIT = 40


def dev_routes() -> list[Route]:
    return [
        Route("/__workerhost/status", _status, methods=["GET"]),
        Route("/__workerhost/scheduled", _scheduled, methods=_METHODS),
        Route("/__scheduled", _wrangler_scheduled, methods=_METHODS),
    ]


def _host(request: Request) -> Host:
    return request.app.state.host  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def _authenticator(api: ApiConfig) -> Authenticator:
    return Authenticator(api)


def _refusal(request: Request, *, write: bool) -> Response | None:
    """The REST API's 401 / 403 if tokens are configured and the request's credential does not do; else None."""
    try:
        _authenticator(_host(request).config.api).require(request.headers, write=write)
    except ApiError as refused:
        return refused.response()
    return None


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def status_payload(host: Host) -> dict[str, Any]:
    """What ``/__workerhost/status`` answers (secret values never appear, only their names)."""
    version = host.version
    failure = host.reload_failure
    return {
        "version": None if version is None else version.number,
        "loaded_at": None if version is None else _iso(version.loaded_at),
        "config": str(host.config.path),
        "env": host.config.env,
        "persist_to": str(host.config.persist_to),
        "storage": _storage_status(host),
        "reload": {
            "enabled": host.config.reload,
            "reloads": host.reloads,
            "error": None if failure is None else Redactor(host.config.hidden_values)(failure.message),
            "error_at": None if failure is None else _iso(failure.at),
        },
        "workers": [] if version is None else [_worker_status(w, host.clock.now()) for w in version.workers.values()],
        "in_flight": 0 if version is None else version.in_flight,
        "pending_wait_until": 0 if version is None else version.pending,
    }


def _storage_status(host: Host) -> dict[str, Any]:
    durability = host.durability
    key = host.config.encryption
    return {
        "location": describe_storage(host.config.storage, host.config.persist_to),
        "durable": None if durability is None else durability.durable,
        # The key's id, never the key (README "Encryption at rest").
        "encryption": None if key is None else {"cipher": "AES-256-GCM", "key_id": key.id},
        "warning": None if durability is None else durability.warning(),
    }


def _worker_status(worker: LoadedWorker, now: float) -> dict[str, Any]:
    config = worker.config
    plan = worker.version.fidelity
    bindings: list[dict[str, Any]] = [
        {"name": name, "type": "kv_namespace", "namespace_id": info.id, "title": info.title}
        | ({"fidelity": modes} if (modes := plan.settings_for(info.id).describe()) else {})
        for name, info in worker.namespaces.items()
    ]
    secrets = worker.version.config.secrets
    bindings += [{"name": name, "type": "var"} for name in config.vars if name not in secrets]
    bindings += [{"name": name, "type": "secret"} for name in secrets]
    if config.assets is not None and config.assets.binding is not None:
        bindings.append({"name": config.assets.binding, "type": "assets", "directory": config.assets.directory_display})
    bindings += [
        {"name": missing.name, "type": missing.kind, "available": False, "note": "not available locally"}
        for missing in config.unavailable
    ]
    return {
        "name": worker.name,
        "script": config.script_display,
        "shape": worker.shape,
        "routes": list(config.routes),
        "bindings": bindings,
        "crons": list(config.crons),
        "schedule": [{"cron": cron, "next_run": _iso(parse_cron(cron).next_after(now))} for cron in config.crons],
        "assets": None if config.assets is None else _assets_status(config.assets),
    }


def _assets_status(assets: AssetsConfig) -> dict[str, Any]:
    first = assets.run_worker_first
    return {
        "directory": assets.directory_display,
        "binding": assets.binding,
        "run_worker_first": list(first) if isinstance(first, tuple) else first,
        "html_handling": assets.html_handling,
        "not_found_handling": assets.not_found_handling,
    }


async def _status(request: Request) -> Response:
    refused = _refusal(request, write=False)
    return refused or JSONResponse(status_payload(_host(request)))


def _scheduled_time(raw: str | None, now: float) -> float:
    """The ``time`` parameter (milliseconds since the epoch) in seconds; now if absent; ValueError if unusable."""
    if not raw:
        return now
    if _MILLISECONDS.fullmatch(raw):
        try:
            return check_scheduled_time(float(raw) / 1000)
        except ValueError:
            pass
    shown = raw if len(raw) <= _SHOWN_LIMIT else f"{raw[:_SHOWN_LIMIT]}... ({len(raw)} characters)"
    raise ValueError(
        f"Invalid time of {shown}. Please specify milliseconds since the UNIX epoch, "
        f"from 0 to {round(MAX_SCHEDULED_TIME * 1000)} (9999-12-31)."
    )


async def _run(request: Request) -> tuple[int, dict[str, Any]]:
    host = _host(request)
    if host.version is None:
        return 400, {"outcome": "error", "error": "no version is loaded"}
    try:
        picked = pick_scheduled(host.version, request.query_params.get("worker"))
        when = _scheduled_time(request.query_params.get("time"), host.clock.now())
    except (LookupError, ValueError) as exc:
        return 400, {"outcome": "error", "error": str(exc)}
    cron = scheduled_cron(picked, request.query_params.get("cron"))
    ok = await fire_scheduled(picked, cron, when)
    outcome = {
        "worker": picked.name,
        "cron": cron,
        "scheduled_time": when * 1000,
        "outcome": "ok" if ok else "exception",
    }
    if not ok:
        outcome["error"] = "the scheduled handler raised; the traceback is in the server log"
    return (200 if ok else 500), outcome


async def _scheduled(request: Request) -> Response:
    refused = _refusal(request, write=True)
    if refused is not None:
        return refused
    status, outcome = await _run(request)
    return JSONResponse(outcome, status)


async def _wrangler_scheduled(request: Request) -> Response:
    refused = _refusal(request, write=True)
    if refused is not None:
        return refused
    status, outcome = await _run(request)
    if status == 200:
        return PlainTextResponse("Ran scheduled event")
    return PlainTextResponse(outcome.get("error", "scheduled handler failed"), status)


async def not_found(request: Request, exc: Exception) -> Response:
    """The 404 for anything no route matches, listing the worker routes."""
    if isinstance(exc, HTTPException) and exc.status_code != 404:
        return PlainTextResponse(exc.detail, exc.status_code)
    version = _host(request).version
    workers = [] if version is None else version.workers.values()
    routes = [(route, worker.name) for worker in workers for route in worker.config.routes]
    return not_found_page(request.method, request.url.path, routes, wants_html(request.scope))
