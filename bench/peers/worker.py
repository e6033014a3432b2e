"""The benchmark's handler script: the routes of ``worker.mjs`` (Miniflare, wrangler dev), written as a user would.

Each route does what the JS worker's does, in the same way: parse the URL, call the binding once,
answer with a short text body. The reload benchmark rewrites the ``VERSION`` line.

``/write-new`` (only here) writes a new value each time, where ``/write`` always writes the same one,
which SQLite skips writing back to its page (the row is unchanged); the encryption row uses it, since
a sealed value is never the same twice.

The scale routes (``/scale/{big,small}/{get,put,list}``) exist only here: they compare a namespace of
1,000,000 keys with one of 1,000, both served by workerhost. Keys there are ``key:0000000`` upwards.
So do the style routes (``/style/...``): the read route's one get, with the request read and the
response built in each of the other ways the README documents (``entry.py`` is the ``WorkerEntrypoint``).
"""

import asyncio
import random

from starlette.responses import JSONResponse, PlainTextResponse
from workers import Response

VERSION = "0"
HOT_VALUE = "value" * 10


async def fetch(request, env, ctx):
    # One dict lookup routes every row alike: an if-chain would charge each route for those before it.
    path = request.url.path
    route = ROUTES.get(path)
    if route is not None:
        return await route(request, env)
    if path.startswith("/scale/"):
        return await scale(path, env)
    return Response("hello")


async def read(request, env):
    return Response(await env.KV.get("hot"))


async def write(request, env):
    await env.KV.put(f"k{random.randrange(1000)}", "value")
    return Response("ok")


async def write_new(request, env):
    await env.KV.put(f"k{random.randrange(1000)}", f"value {random.randrange(1_000_000_000):09}")
    return Response("ok")


async def list_page(request, env):
    page = await env.KV.list(prefix="p:")
    return Response(str(len(page.keys)))


async def version(request, env):
    return Response(VERSION)


async def seeded(request, env):
    await seed(env.KV)
    return Response("seeded")


async def style_json(request, env):
    return Response.json({"value": await env.KV.get("hot")})


async def style_starlette_text(request, env):
    return PlainTextResponse(await env.KV.get("hot"))


async def style_starlette_json(request, env):
    return JSONResponse({"value": await env.KV.get("hot")})


async def style_query(request, env):  # ?key=hot
    return Response(await env.KV.get(request.query_params.get("key")))


async def style_headers(request, env):  # the header is absent: the lookup is made all the same
    return Response(await env.KV.get(request.headers.get("x-key", "hot")))


ROUTES = {
    "/read": read,
    "/write": write,
    "/write-new": write_new,
    "/list": list_page,
    "/version": version,
    "/seed": seeded,
    "/style/json": style_json,
    "/style/starlette-text": style_starlette_text,
    "/style/starlette-json": style_starlette_json,
    "/style/query": style_query,
    "/style/headers": style_headers,
}


async def seed(kv):
    await kv.put("hot", HOT_VALUE)
    await asyncio.gather(*(kv.put(f"p:{i:04}", "v", metadata={"i": i}) for i in range(1000)))


async def scale(path, env):
    _, _, size, operation = path.split("/")
    kv = env.BIG if size == "big" else env.SMALL
    index = random.randrange(int(env.BIG_KEYS if size == "big" else env.SMALL_KEYS))
    if operation == "get":
        return Response(await kv.get(f"key:{index:07}"))
    if operation == "put":
        await kv.put(f"key:{index:07}", f"value {index:07} ".ljust(100, "x"))
        return Response("ok")
    page = await kv.list(prefix=f"key:{index // 100:05}")  # 100 keys
    return Response(str(len(page.keys)))
