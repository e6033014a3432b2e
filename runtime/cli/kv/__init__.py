"""The commands behind ``workerhost kv``: KV straight on the persist directory, with no server.

    run.py          runs one command: opens the session, maps errors to one line and exit status 1
    session.py      the persist directory and kv.yaml (resolved as ``workerhost dev`` does) and the namespace named
    output.py       JSON on stdout (streamed, ready for ``jq``), notes on stderr, progress bars on a terminal
    inputs.py       reading the files and values commands are given
    namespaces.py   ``namespace create|list|rename|delete``
    keys.py         ``key put|get|list|delete``
    bulk.py         ``bulk put|delete|get`` in wrangler's JSON formats
    dump.py         ``export`` / ``import``: a whole namespace as JSON Lines, lossless

The argument parser is ``parser.py``; it imports these modules only when a command runs.
"""
