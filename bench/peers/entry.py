"""The benchmark's ``WorkerEntrypoint``: the read route as Cloudflare's Python Workers examples write it.

``request.url`` is a str, parsed with ``urllib.parse``; ``/entry/read?key=hot`` reads that key.
"""

from urllib.parse import parse_qs, urlparse

from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        url = urlparse(request.url)
        key = parse_qs(url.query).get("key", ["hot"])[0]
        return Response(await self.env.KV.get(key))
