"""A hit counter: each GET of /counter/<name> adds one to that counter and returns the count.

The smallest useful worker: one KV binding (env.COUNTER), one var (env.GREETING), and a
ctx.wait_until task that records the time of the last visit after the response has gone out.

    GET    /counter            the "hits" counter, plus one
    GET    /counter/<name>     the counter called <name>, plus one
    GET    /counter/<name>?peek=1   read it without counting
    DELETE /counter/<name>     reset it

KV has no atomic increment: two requests at the same instant can both read 41 and write 42. That is
fine for a hit counter; a real one that must never miss would use a Durable Object.
"""

from __future__ import annotations

import time

from runtime import Response


async def fetch(request, env, ctx):
    name = request.url.path.removeprefix("/counter").strip("/") or "hits"
    key = f"count:{name}"
    if request.method == "DELETE":
        await env.COUNTER.delete(key)
        return Response.json({"name": name, "hits": 0})
    if request.method not in ("GET", "HEAD"):
        return Response.json({"error": "use GET or DELETE"}, status=405)
    hits = int(await env.COUNTER.get(key) or 0)
    if "peek" not in request.query_params:
        hits += 1
        await env.COUNTER.put(key, str(hits))
        ctx.wait_until(remember_visit(env, name))
    last = await env.COUNTER.get(f"last:{name}")
    return Response.json({"name": name, "hits": hits, "last_visit": last and float(last), "greeting": env.GREETING})


async def remember_visit(env, name):
    # Runs after the response is sent, so the visitor does not wait for this write.
    await env.COUNTER.put(f"last:{name}", str(time.time()))
