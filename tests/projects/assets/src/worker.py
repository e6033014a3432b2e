from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = "/" + request.url.split("/", 3)[3].partition("?")[0]
        if path.startswith("/api/"):
            return Response.json({"from": "worker", "path": path})
        if path == "/via-binding":
            found = await self.env.ASSETS.fetch(request.url.replace("/via-binding", "/style.css"))
            return Response(await found.text(), headers={"content-type": found.headers.get("content-type")})
        # Anything else: let the assets answer, as Cloudflare's assets example does.
        return await self.env.ASSETS.fetch(request)
