"""A URL shortener on KV: links with metadata, optional expiry, and listing by prefix with a cursor.

    POST   /links          {"url", "owner"?, "code"?, "ttl"?, "check"?}  -> 201 {"code", "url", "short", ...}
    GET    /links          ?prefix=&limit=&cursor=  -> {"links": [...], "cursor", "list_complete"}
    GET    /links/<code>   the link and its metadata
    DELETE /links/<code>
    GET    /s/<code>       302 to the link's URL (404 once it has expired)

Each link is one key, ``link:<code>``, whose value is the URL and whose metadata is
``{"owner", "created"}``: listing shows owner and creation time without reading any values. A ``ttl``
(seconds, at least 60 as KV requires) makes KV expire the link by itself. With ``"check": true`` the
URL is fetched first (``HEAD``, outbound ``fetch``), and a link whose target does not answer with
a success or a redirect is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import codes
from workers import fetch as outbound

from runtime import Response

MAX_PAGE = 100


async def fetch(request, env, ctx):
    path = request.url.path
    if path.startswith("/s/"):
        return await follow(env, path.removeprefix("/s/"))
    code = path.removeprefix("/links").strip("/")
    if not code:
        if request.method == "POST":
            return await create(request, env)
        if request.method == "GET":
            return await listing(request, env)
    elif request.method == "GET":
        return await show(env, code)
    elif request.method == "DELETE":
        await env.LINKS.delete(codes.key_for(code))
        return Response(None, status=204)
    return error(405, f"{request.method} is not supported on {path}")


def error(status, message):
    return Response.json({"error": message}, status=status)


async def create(request, env):
    try:
        body = await request.json()
    except ValueError:
        return error(400, "the body must be JSON")
    if not isinstance(body, dict):
        return error(400, "the body must be a JSON object")
    problem = codes.check_url(body.get("url"))
    code = body.get("code") or codes.new_code()
    problem = problem or codes.check_code(code)
    ttl = body.get("ttl")
    if ttl is not None and (not isinstance(ttl, int) or ttl < int(env.MIN_TTL_SECONDS)):
        problem = problem or f"ttl must be a whole number of seconds, at least {env.MIN_TTL_SECONDS}"
    if problem:
        return error(400, problem)
    if body.get("check"):
        answer = await outbound(body["url"], method="HEAD", redirect="manual")
        if answer.status >= 400:
            return error(400, f"{body['url']} answered {answer.status}; not shortened")
    if await env.LINKS.get(codes.key_for(code)) is not None:
        return error(409, f"the code {code!r} is taken")
    metadata = {
        "owner": body.get("owner") or request.headers.get("x-owner") or "anonymous",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    await env.LINKS.put(codes.key_for(code), body["url"], expiration_ttl=ttl, metadata=metadata)
    link = {"code": code, "url": body["url"], "short": f"/s/{code}", **metadata}
    return Response.json(link, status=201, headers={"location": f"/links/{code}"})


async def listing(request, env):
    query = request.query_params
    try:
        limit = min(int(query.get("limit", "20")), MAX_PAGE)
    except ValueError:
        return error(400, "limit must be a number")
    page = await env.LINKS.list(
        prefix=codes.key_for(query.get("prefix", "")), limit=limit, cursor=query.get("cursor") or None
    )
    links = [
        {"code": codes.code_of(key.name), "expiration": key.expiration, **(key.metadata or {})} for key in page.keys
    ]
    return Response.json({"links": links, "list_complete": page.list_complete, "cursor": page.cursor})


async def show(env, code):
    found = await env.LINKS.get_with_metadata(codes.key_for(code))
    if found.value is None:
        return error(404, f"no link {code!r}")
    return Response.json({"code": code, "url": found.value, **(found.metadata or {})})


async def follow(env, code):
    url = await env.LINKS.get(codes.key_for(code))
    if url is None:
        return error(404, f"no link {code!r} (it may have expired)")
    return Response.redirect(url, 302)
