from workers import Response, WorkerEntrypoint, env


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        names = ("API_KEY", "PLAIN", "PRIVATE_KEY", "SINGLE", "ESCAPED")
        # `env` imported at module level is this worker's env, as in Cloudflare's SDK.
        return Response.json({name: getattr(env, name) for name in names} | {"same": env is self.env})
