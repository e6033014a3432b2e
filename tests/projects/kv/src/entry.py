from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/d1"):
            return Response(str(await self.env.DB.prepare("SELECT 1").all()))  # D1 is not emulated
        if request.method == "PUT":
            await self.env.FOO.put("bar", await request.text())
            return Response("stored")
        value = await self.env.FOO.get("bar")
        return Response(value or "(none)")
