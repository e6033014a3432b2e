"""Notes, written for Cloudflare's Python Workers: this file runs unchanged on Cloudflare and here.

It uses only what Cloudflare provides: ``from workers import Response, WorkerEntrypoint``, a request
whose ``url`` is a string, KV with camelCase options, ``self.ctx.waitUntil`` and a cron handler.
``wrangler.toml`` beside it deploys it (``npx wrangler deploy``); kv.yaml serves it locally.

    POST /py/notes         {"title", "text", "ttl"?}  -> 201 {"id", "title"}
    GET  /py/notes         ?cursor=  -> {"notes": [{"id", "title"}], "cursor"}
    GET  /py/notes/<id>    {"id", "title", "text", "views"}
    GET  /py/stats         {"notes": n, "last_cron": ...}  (updated by the cron trigger)
"""

import json
import uuid
from urllib.parse import parse_qs, urlparse

from workers import Response, WorkerEntrypoint

PAGE_SIZE = 10


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        parts = [part for part in url.path.split("/") if part][1:]  # drop the leading "py"
        if parts == ["notes"] and request.method == "POST":
            return await self.create(request)
        if parts == ["notes"]:
            cursor = parse_qs(url.query).get("cursor", [None])[0]
            return await self.list_notes(cursor)
        if len(parts) == 2 and parts[0] == "notes":
            return await self.show(parts[1])
        if parts == ["stats"]:
            stats = await self.env.NOTES.get("stats", "json")
            return Response.json(stats or {"notes": 0, "last_cron": None})
        return Response.json({"error": "not found"}, status=404)

    async def create(self, request):
        body = await request.json()
        title, text = body.get("title"), body.get("text")
        if not isinstance(title, str) or not isinstance(text, str) or not title:
            return Response.json({"error": "title and text must be strings"}, status=400)
        note_id = uuid.uuid4().hex[:12]
        options = {"metadata": {"title": title}}
        if body.get("ttl"):
            options["expirationTtl"] = int(body["ttl"])
        await self.env.NOTES.put("note:" + note_id, text, options)
        return Response.json({"id": note_id, "title": title}, status=201)

    async def list_notes(self, cursor):
        page = await self.env.NOTES.list({"prefix": "note:", "limit": PAGE_SIZE, "cursor": cursor})
        notes = [{"id": key["name"][len("note:") :], "title": key["metadata"]["title"]} for key in page["keys"]]
        return Response.json({"notes": notes, "cursor": page.get("cursor")})

    async def show(self, note_id):
        found = await self.env.NOTES.getWithMetadata("note:" + note_id)
        if found["value"] is None:
            return Response.json({"error": "no such note"}, status=404)
        views = int(await self.env.NOTES.get("views:" + note_id) or 0) + 1
        # Counting the view can wait until the reader has the note.
        self.ctx.waitUntil(self.env.NOTES.put("views:" + note_id, str(views)))
        note = {"id": note_id, "title": found["metadata"]["title"], "text": found["value"], "views": views}
        return Response(json.dumps(note), headers={"content-type": "application/json"})

    async def scheduled(self, controller, env, ctx):
        count = 0
        cursor = None
        while True:
            page = await env.NOTES.list({"prefix": "note:", "cursor": cursor})
            count += len(page["keys"])
            cursor = page.get("cursor")
            if page["list_complete"] or not cursor:
                break
        stats = {"notes": count, "last_cron": controller.scheduledTime, "cron": controller.cron}
        await env.NOTES.put("stats", json.dumps(stats))
