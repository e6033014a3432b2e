"""Users' handler scripts: loading them, and everything they are handed.

    loader.py       imports a script by path, fresh each time, and finds its fetch/scheduled entrypoints
    importer.py     runs those imports off the event loop, one at a time, within a time limit
    workers.py      the ``workers`` module scripts import: Response, Request, WorkerEntrypoint
    requesturl.py   ``request.url`` built from the ASGI scope without re-parsing it
    env.py          ``env``: KV bindings, vars and secrets with attribute and item access
    ctx.py          ``ctx`` (``wait_until``) and the cron ``controller``
    tracebacks.py   tracebacks showing the script's own frames, secrets blanked

This package knows nothing of routes, versions or servers: ``runtime.host`` drives it.
"""
