"""The pages the host itself answers with: the dev error page, the 500 for a non-Response, the 404 list of routes.

Browsers (``Accept: text/html``) get HTML; everything else gets plain text, which reads well in curl
and in test failures. Tracebacks pass through the worker's redactor, so no secret value is shown.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from ..handlers.tracebacks import format_user_traceback

__all__ = ["bad_return_page", "error_page", "not_found_page", "too_large_page", "wants_html"]

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}"
    "pre{background:#f6f6f6;border-left:4px solid #c33;padding:1rem;overflow:auto;font-size:13px}"
    "code{background:#f0f0f0;padding:0 .2em}table{border-collapse:collapse}td{padding:.15rem .8rem .15rem 0}"
)
_REPR_LIMIT = 200


def wants_html(scope: Scope) -> bool:
    """True when the client asks for HTML (a browser), so pages are rendered for it."""
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            return b"text/html" in value
    return False


def _page(status: int, title: str, body_html: str, text: str, as_html: bool) -> Response:
    if as_html:
        document = (
            f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body_html}</body></html>"
        )
        return Response(document, status, media_type="text/html")
    return Response(f"{title}\n\n{text}", status, media_type="text/plain")


def error_page(
    worker_name: str, method: str, path: str, exc: BaseException, redact: Any, debug: bool, as_html: bool
) -> Response:
    """A 500 for a handler that raised: with the traceback in dev (``debug``), plain otherwise."""
    title = "500 Internal Server Error"
    if not debug:
        return Response("Internal Server Error", 500, media_type="text/plain")
    trace = format_user_traceback(exc, redact).rstrip()
    summary = redact(f'Worker "{worker_name}" raised {type(exc).__name__} while handling {method} {path}')
    body = f"<p>{html.escape(summary)}</p><pre>{html.escape(trace)}</pre>"
    return _page(500, title, body, f"{summary}\n\n{trace}\n", as_html)


def describe_value(value: Any, redact: Callable[[str], str]) -> str:
    """``type: repr`` of a handler's return value, blanked by ``redact`` and then cut to a readable length.

    In that order: a cut inside a secret would leave a part of it that nothing recognises.
    """
    text = redact(repr(value))
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return f"{type(value).__module__}.{type(value).__qualname__}: {text}"


def bad_return_message(worker_name: str, value: Any, redact: Callable[[str], str]) -> str:
    """What the 500 page and the log say of a handler that returned ``value``, secrets blanked."""
    return (
        f'Worker "{worker_name}" returned {describe_value(value, redact)} instead of a Response. '
        'Return a Response, e.g. Response("text") or Response.json(data).'
    )


def bad_return_page(worker_name: str, value: Any, redact: Callable[[str], str], as_html: bool) -> Response:
    """The 500 for a handler that returned something other than a Response."""
    message = redact(bad_return_message(worker_name, value, redact))
    return _page(500, "500 Internal Server Error", f"<p>{html.escape(message)}</p>", message + "\n", as_html)


def too_large_page(message: str, as_html: bool) -> Response:
    """The 413 for a request body over what a Worker accepts (Cloudflare refuses it at its edge)."""
    text = f"The request was refused: {message}."
    return _page(413, "413 Payload Too Large", f"<p>{html.escape(text)}</p>", text + "\n", as_html)


def not_found_page(method: str, path: str, routes: Iterable[tuple[str, str]], as_html: bool) -> Response:
    """The 404 for a request no worker route matches; it lists the routes there are."""
    routes = list(routes)
    intro = f"No worker route matches {method} {path}."
    if not routes:
        lines = ["No workers are configured: add some to kv.yaml's workers list."]
    else:
        lines = ["Routes:"] + [f"  {pattern}  ->  {name}" for pattern, name in routes]
    rows = "".join(f"<tr><td><code>{html.escape(p)}</code></td><td>{html.escape(n)}</td></tr>" for p, n in routes)
    status_link = "<p>Dev status: <a href=/__workerhost/status>/__workerhost/status</a></p>"
    body = f"<p>{html.escape(intro)}</p><table>{rows}</table>{status_link}"
    return _page(404, "404 Not Found", body, intro + "\n" + "\n".join(lines) + "\n", as_html)
