"""workerhost's benchmarks: each row of the README's speed table, measured side by side in one run.

``python -m bench`` runs every row against its peers (Miniflare 4, ``wrangler dev``, a bare Starlette
app on the same uvicorn settings), prints the table and writes the results as JSON. The machine is
shared and noisy, so rounds of the peers are interleaved and the table reports ratios measured in
the same run, with the median and the min–max of each figure. ``--smoke`` runs every row in a few
seconds with tiny sizes; the test suite runs it so the harness cannot rot.

Modules, one job each:

    settings.py    the run's settings (full or smoke) and where caches live
    tools.py       wrk (apt), Miniflare and wrangler (npm, pinned), a network namespace (unshare)
    procs.py       server processes: start, wait until ready, CPU time, memory, stop
    load.py        wrk with --latency, parsed; rounds interleaved across peers
    client.py      a fixed number of requests over keep-alive connections (wrk only runs for a time)
    probe.py       cold start and save-to-served reload times, run beside the server (inside the netns for wrangler)
    dataset.py     the cached 1,000,000-key namespace
    peers/         the servers compared: workerhost, bare Starlette, Miniflare, wrangler dev
    scenarios/     one module per group of rows
    report.py      rows, the printed table, JSON and README markdown
"""
