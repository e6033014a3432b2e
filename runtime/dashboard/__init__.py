"""The KV dashboard: a page in the browser at ``/__workerhost/`` (README "Dashboard").

The page is plain ES modules and CSS served from this package (``static/``): no build step and
nothing from the internet. Everything KV it does through the host's own REST API at
``/client/v4``, as wrangler does; this package adds only what that API lacks, under
``/__workerhost/api/`` (outside the Cloudflare-compatible surface):

    routes.py     the dashboard's routes, each module imported on its first request
    access.py     what the dashboard needs of the host, and the REST API's tokens for its own endpoints
    page.py       the page and its scripts, with a Content-Security-Policy that allows no inline script
    session.py    what a token may do (read, or write too), so the page shows only what it may use
    stats.py      each namespace's key count and size
    transfer.py   export and import of a namespace in ``workerhost kv export``'s format
    feed.py       the live feed of writes (server-sent events)

Workers, their routes, bindings and last reload error come from ``/__workerhost/status``, and
"run this cron" is ``/__workerhost/scheduled``: the dev routes serve the dashboard as they are.
It sits above ``runtime.api`` and ``runtime.config`` and below ``runtime.host``, which mounts it.
"""

from __future__ import annotations

from .routes import PAGE, dashboard_routes

__all__ = ["PAGE", "dashboard_routes"]
