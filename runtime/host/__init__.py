"""The host: the ASGI app that routes each request to a worker of the version currently loaded.

A request reads top to bottom:

    app.py          ``create_app``/``HostApp``: worker routes first, then the REST API, then the host's own routes
    router.py       the compiled route table of a version: path (and Host) -> worker
    versions.py     a version: every worker loaded from one config, with its env and KV bindings
    dispatch.py     calls the worker's handler, sends its response, logs one line
    state.py        ``Host``: the store, the clock and the current version; start, reload, stop
    reload.py       watches files and asks the host to reload
    scheduler.py    cron triggers
    watchdog.py     names handler code that blocks the event loop
    devroutes.py    ``/__workerhost/status`` and the scheduled-handler routes (with the API's tokens, if any)
    pages.py        the host's own pages: the dev error page, the 500 for a bad return, the 404
    accesslog.py    the one-line-per-request log
"""
