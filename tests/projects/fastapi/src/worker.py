from contextlib import asynccontextmanager

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from workers import WorkerEntrypoint

STARTS = []


@asynccontextmanager
async def lifespan(app):
    STARTS.append("started")
    yield {"greeting": "set at startup"}


app = FastAPI(lifespan=lifespan)


class Item(BaseModel):
    name: str
    price: float


@app.get("/items/{item_id}")
async def read_item(item_id: int, q: str | None = None):
    return {"item_id": item_id, "q": q}


@app.post("/items")
async def create_item(item: Item):
    return {"name": item.name, "price": item.price, "taxed": round(item.price * 1.2, 2)}


@app.get("/env")
async def env(req: Request):
    return {"message": req.scope["env"].MESSAGE, "state": req.state.greeting, "starts": len(STARTS)}


@app.get("/stream")
async def stream():
    async def numbers():
        for number in range(3):
            yield f"line {number}\n"

    return StreamingResponse(numbers(), media_type="text/plain")


@app.get("/boom")
async def boom():
    raise RuntimeError("the app failed")


@app.post("/later")
async def later(tasks: BackgroundTasks, req: Request):
    async def record():
        await req.scope["env"].LOG.put("background", "done")

    tasks.add_task(record)
    return {"queued": True}


@app.get("/log")
async def log(req: Request):
    return {"background": await req.scope["env"].LOG.get("background")}


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        import asgi  # as Cloudflare's example imports it

        return await asgi.fetch(app, request.js_object, self.env)
