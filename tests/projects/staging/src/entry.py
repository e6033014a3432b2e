from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.method == "PUT":
            await self.env.DATA.put("k", await request.text())
        return Response.json({"stage": self.env.STAGE, "token": self.env.TOKEN, "k": await self.env.DATA.get("k")})
