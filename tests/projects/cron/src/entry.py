from workers import Response, WorkerEntrypoint


class Default(WorkerEntrypoint):
    async def scheduled(self, controller, env, ctx):
        await env.RUNS.put("last", f"{controller.cron}@{int(controller.scheduledTime)}")

    async def fetch(self):  # no request parameter, as Cloudflare's cron example writes it
        return Response(await self.env.RUNS.get("last") or "never")
