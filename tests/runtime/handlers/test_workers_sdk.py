"""The ``workers`` module's pieces, as Cloudflare's Python SDK defines them: Headers, Request, Response,
Blob/File/FormData, the asgi and wsgi bridges, module-level ``env``, and the Pyodide-only imports."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from runtime.handlers.imports import install_import_names
from runtime.handlers.loader import load_handlers, unload_module
from runtime.handlers.unavailable import BindingNotAvailableError, UnavailableBinding
from runtime.handlers.workers import Blob, File, FormData, Headers, Request, Response, asgi, wsgi
from runtime.handlers.workers.context import WorkerScope, running
from tests.support import write_files


def test_headers_are_case_insensitive_keep_repeats_and_get_gives_none() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("Content-Type", "text/plain")])
    assert (headers["content-type"], headers.get("X-Missing"), "CONTENT-TYPE" in headers) == ("text/plain", None, True)
    assert headers.get_all("SET-COOKIE") == ["a=1", "b=2"] and headers.getSetCookie() == ["a=1", "b=2"]
    headers.set("content-type", "text/html")
    headers.append("x-a", "1")
    headers.delete("set-cookie")
    assert headers.items() == [("content-type", "text/html"), ("x-a", "1")]
    with pytest.raises(TypeError, match="line break or NUL"):
        headers.set("x", "1\r\nforged: 1")


@pytest.mark.anyio
async def test_a_request_can_be_built_and_read() -> None:
    request = Request("https://example.com/a?b=1", method="POST", headers={"X-Token": "t"}, body='{"n": 1}')
    assert (request.url, request.method, request.headers.get("x-token"), request.headers.get("x-nope")) == (
        "https://example.com/a?b=1",
        "POST",
        "t",
        None,
    )
    assert request.headers["content-type"] == "text/plain;charset=UTF-8"
    assert await request.json() == {"n": 1}
    assert request.js_object is request and request.cf.colo == "LOCAL"
    copy = Request(request, method="PUT")
    assert (copy.method, await copy.text()) == ("PUT", '{"n": 1}')
    form = FormData({"name": "ada"})
    form.append("file", File(["hi"], "hi.txt", "text/plain"))
    sent = Request("https://example.com/", method="POST", body=form)
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")


@pytest.mark.anyio
async def test_response_bodies_carry_workers_content_types_and_read_back() -> None:
    assert Response("hi").headers["content-type"] == "text/plain;charset=UTF-8"
    assert Response(b"\x00").headers.get("content-type") is None
    assert Response(Blob(["<b>"], "text/html")).headers["content-type"] == "text/html"
    built = Response.json({"a": [1, 2]}, 201, headers={"x": "y"})
    assert (built.status, built.ok, built.headers["content-type"], built.headers["x"]) == (
        201,
        True,
        "application/json",
        "y",
    )
    assert await built.json() == {"a": [1, 2]}  # on an instance, json() reads
    assert (await built.text(), await built.bytes()) == ('{"a":[1,2]}', b'{"a":[1,2]}')
    repeated = Response("x", headers=[("set-cookie", "a=1"), ("set-cookie", "b=2")])
    assert repeated.headers.getlist("set-cookie") == ["a=1", "b=2"]


@pytest.mark.anyio
async def test_a_streamed_response_is_read_once_in_full() -> None:
    async def chunks() -> Any:
        yield "a"
        yield b"b"

    response = Response(chunks(), headers={"content-type": "text/plain"})
    assert "content-length" not in response.headers
    assert await response.text() == "ab"
    assert response.headers["content-length"] == "2"


@pytest.mark.anyio
async def test_blob_file_and_formdata() -> None:
    blob = Blob(["ab", b"cd", Blob(["ef"])], "Text/Plain")
    assert (blob.size, blob.type, await blob.text(), await blob.slice(1, 3).bytes()) == (
        6,
        "text/plain",
        "abcdef",
        b"bc",
    )
    file = File([b"x"], "a.txt", "text/plain", last_modified=5)
    assert (file.name, file.lastModified) == ("a.txt", 5)
    form = FormData()
    form.append("tag", "a")
    form.append("tag", "b")
    form["one"] = "1"
    assert (form["tag"], form.get_all("tag"), "one" in form, len(form)) == ("a", ["a", "b"], True, 2)
    body, content_type = form.encode()
    boundary = content_type.split("boundary=")[1]
    assert body.count(f"--{boundary}".encode()) == 4 and b'name="tag"\r\n\r\na\r\n' in body


async def _starlette_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["ready"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    parts = [scope["method"], scope["path"], scope["query_string"].decode(), body.decode(), scope["env"]]
    text = " ".join([*parts, scope["state"]["ready"]])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text.encode()})


@pytest.mark.anyio
async def test_asgi_fetch_runs_an_app_with_env_state_and_the_body() -> None:
    request = Request("http://local/a%20b?x=1", method="POST", body="payload")
    response = await asgi.fetch(_starlette_app, request.js_object, "ENV")
    assert (response.status, await response.text()) == (200, "POST /a b x=1 payload ENV yes")


@pytest.mark.anyio
async def test_asgi_lifespan_starts_once_per_worker_and_stops_when_it_retires() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                events.append("startup")
                await send({"type": "lifespan.startup.complete"})
            events.append("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    scope = WorkerScope(env=None, name="w")
    with running(scope, None):
        for _ in range(3):
            assert (await asgi.fetch(app, Request("http://local/"), None)).status == 204
    assert events == ["startup"]
    await scope.close()
    assert events == ["startup", "shutdown"]


@pytest.mark.anyio
async def test_an_asgi_app_that_raises_before_responding_raises() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")  # the ASGI spec's way of saying "not supported"
        raise ValueError("broken view")

    with pytest.raises(ValueError, match="broken view"):
        await asgi.fetch(app, Request("http://local/"), None)


@pytest.mark.anyio
async def test_wsgi_fetch_runs_the_app_on_a_thread() -> None:
    import threading

    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.update(thread=threading.current_thread().name, env=environ["workers.env"], path=environ["PATH_INFO"])
        seen["body"] = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        start_response("201 Created", [("Content-Type", "text/plain"), ("X-A", "1")])
        return iter([b"one ", b"two"])

    response = await wsgi.fetch(app, Request("http://local/caf%C3%A9", method="POST", body=b"data"), "ENV")
    assert (response.status, response.headers["x-a"], await response.text()) == (201, "1", "one two")
    assert seen["thread"] != threading.current_thread().name
    assert (seen["env"], seen["path"], seen["body"]) == ("ENV", "/café".encode().decode("latin-1"), b"data")


def test_pyodide_only_imports_say_so_and_what_to_use_instead() -> None:
    install_import_names()
    with pytest.raises(
        ModuleNotFoundError, match=r"No module named 'js': it is Pyodide-only.*from workers import fetch"
    ):
        importlib.import_module("js")
    with pytest.raises(ModuleNotFoundError, match=r"No module named 'pyodide': it is Pyodide-only.*to_js"):
        importlib.import_module("pyodide.ffi")


def test_workers_and_top_level_asgi_are_importable_under_cloudflares_names() -> None:
    install_import_names()
    assert importlib.import_module("asgi") is asgi
    assert importlib.import_module("workers.asgi") is asgi
    assert importlib.import_module("workers").Response is Response


def test_module_level_env_is_the_workers_own(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "w.py": """
        from workers import Response, WorkerEntrypoint, env

        SEEN = env.NAME

        class Default(WorkerEntrypoint):
            async def fetch(self):
                return Response(SEEN)
    """
        },
    )
    scope = WorkerScope(env=type("Env", (), {"NAME": "mine"})(), name="w")
    from runtime.handlers.workers.context import scope_of_import

    with scope_of_import(scope):
        handlers = load_handlers(tmp_path / "w.py", "w.py", "envtest")
    assert handlers.module.SEEN == "mine"
    unload_module(handlers.module)
    with pytest.raises(RuntimeError, match="workers.env is only available in a worker's code"):
        importlib.import_module("workers").env  # noqa: B018


@pytest.mark.anyio
async def test_fetch_without_a_request_parameter_is_accepted(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "w.py": """
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self):
                return Response("no request needed")
    """
        },
    )
    handlers = load_handlers(tmp_path / "w.py", "w.py", "norequest")
    response = await handlers.fetch(None, None, None)
    assert response.body == b"no request needed"
    unload_module(handlers.module)


def test_a_binding_that_is_not_emulated_names_itself_when_touched() -> None:
    binding = UnavailableBinding("BUCKET", "R2 bucket")
    with pytest.raises(BindingNotAvailableError, match=r"env.BUCKET is a R2 bucket binding, which is not available"):
        binding.get("key")
    assert repr(binding) == "<R2 bucket binding BUCKET: not available locally>"
