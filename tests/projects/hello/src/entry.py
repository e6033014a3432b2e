from workers import Response, WorkerEntrypoint, fetch


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        path = request.url.split("/", 3)[3] if request.url.count("/") >= 3 else ""
        if path == "json":
            return Response.json(
                {"hello": "world", "ua": request.headers.get("user-agent"), "none": request.headers.get("x-absent")}
            )
        if path == "bytes":
            return Response(b"\x00\x01", headers={"x-kind": "bytes"})
        if path == "cf":
            return Response.json({"colo": request.cf.colo, "method": request.method})
        if path.startswith("proxy"):
            # Outbound fetch, to this same server: its status, headers and body come back.
            upstream = await fetch(request.url.replace("/proxy", "/json"), headers={"user-agent": "proxied"})
            data = await upstream.json()
            return Response.json(
                {"status": upstream.status, "type": upstream.headers.get("content-type"), "data": data}
            )
        if path == "redirect":
            return Response.redirect("/json", 307)
        return Response("Hello world!")
