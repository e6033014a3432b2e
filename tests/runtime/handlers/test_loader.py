from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from runtime.errors import HandlerLoadError
from runtime.handlers.loader import load_handlers, unload_module
from tests.support import write_files


def load(path: Path, name: str = "t") -> object:
    return load_handlers(path, path.name, name)


def test_worker_entrypoint_shape_is_found_first(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "w.py": """
        from workers import Response, WorkerEntrypoint

        class Default(WorkerEntrypoint):
            async def fetch(self, request):
                return Response("x")

            async def scheduled(self, controller, env, ctx):
                pass

        async def fetch(request, env, ctx):
            raise AssertionError("the class wins")
    """
        },
    )
    handlers = load(tmp_path / "w.py")
    assert handlers.shape == "WorkerEntrypoint" and handlers.scheduled is not None
    unload_module(handlers.module)


def test_module_and_legacy_shapes(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "m.py": "async def fetch(request, env, ctx): ...\nasync def scheduled(controller, env, ctx): ...\n",
            "l.py": "async def on_fetch(request, env): ...\n",
        },
    )
    module_style, legacy = load(tmp_path / "m.py", "m"), load(tmp_path / "l.py", "l")
    assert (module_style.shape, legacy.shape) == ("fetch", "on_fetch")
    assert module_style.scheduled is not None and legacy.scheduled is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "def fetch(request, env, ctx): ...\n",
            'w.py: fetch must be "async def fetch(request, env, ctx)", but it is a plain (sync) function; '
            "handlers are async",
        ),
        (
            "from workers import WorkerEntrypoint\n"
            "class Default(WorkerEntrypoint):\n    def fetch(self, request): ...\n",
            'w.py: fetch must be "async def fetch(self, request)", but it is a plain (sync) function; '
            "handlers are async",
        ),
        (
            "x = 1\n",
            'w.py defines no async "fetch(request, env, ctx)"; expected one of: class Default(WorkerEntrypoint) with '
            '"async def fetch(self, request)", a module-level "async def fetch(request, env, ctx)", or '
            '"async def on_fetch(request, env)"',
        ),
        ("fetch = 3\n", 'w.py: fetch is not a function; expected "async def fetch(request, env, ctx)"'),
    ],
)
def test_unusable_entrypoints_are_load_errors(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "w.py").write_text(source)
    with pytest.raises(HandlerLoadError) as info:
        load(tmp_path / "w.py")
    assert str(info.value) == message


def test_syntax_and_import_errors_show_the_users_traceback(tmp_path: Path) -> None:
    (tmp_path / "w.py").write_text("def broken(:\n")
    with pytest.raises(HandlerLoadError, match=r"(?s)w.py has a syntax error:\n.*line 1.*SyntaxError"):
        load(tmp_path / "w.py")
    (tmp_path / "w.py").write_text("import not_a_module_anywhere\n")
    with pytest.raises(HandlerLoadError) as info:
        load(tmp_path / "w.py")
    text = str(info.value)
    assert text.startswith("w.py failed to import:\nTraceback")
    assert "ModuleNotFoundError: No module named 'not_a_module_anywhere'" in text
    assert "importlib" not in text and "runtime/handlers/loader.py" not in text


def test_sibling_modules_are_imported_fresh_on_each_load(tmp_path: Path) -> None:
    write_files(tmp_path, {"helper.py": "VALUE = 1\n", "w.py": "import helper\nasync def fetch(r, e, c): ...\n"})
    first = load(tmp_path / "w.py", "v1")
    # Same size, same second: a bytecode cache keyed on mtime and size would serve the old code.
    stat = (tmp_path / "helper.py").stat()
    (tmp_path / "helper.py").write_text("VALUE = 2\n")
    os.utime(tmp_path / "helper.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = load(tmp_path / "w.py", "v2")
    assert (first.module.helper.VALUE, second.module.helper.VALUE) == (1, 2)
    assert not (tmp_path / "__pycache__").exists()


def test_same_named_helpers_of_two_workers_do_not_mix(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a/helper.py": "NAME = 'a'\n",
            "a/w.py": "import helper\nasync def fetch(r, e, c): ...\n",
            "b/helper.py": "NAME = 'b'\n",
            "b/w.py": "import helper\nasync def fetch(r, e, c): ...\n",
        },
    )
    a, b = load(tmp_path / "a" / "w.py", "a"), load(tmp_path / "b" / "w.py", "b")
    assert (a.module.helper.NAME, b.module.helper.NAME) == ("a", "b")


def test_sibling_packages_are_found(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "lib/__init__.py": "",
            "lib/util.py": "X = 5\n",
            "w.py": "from lib.util import X\nasync def fetch(r, e, c): ...\n",
        },
    )
    assert load(tmp_path / "w.py").module.X == 5


def test_imports_on_other_threads_while_a_script_loads_resolve_as_without_the_load(tmp_path: Path) -> None:
    # A load runs on a thread of its own while requests, on the event loop, may import too: they must
    # neither find the loading script's folder nor see sys.meta_path change under them.
    write_files(
        tmp_path,
        {
            "shadowed_only_here.py": "",
            "w.py": """
                import os
                import time

                import shadowed_only_here

                open(os.path.join(os.path.dirname(__file__), "loading"), "w").close()
                while not os.path.exists(os.path.join(os.path.dirname(__file__), "gate")):
                    time.sleep(0.005)

                async def fetch(request, env, ctx): ...
            """,
        },
    )
    (tmp_path / "gate").touch()
    load(tmp_path / "w.py", "warm")  # the first load may install the finder; later ones change nothing
    (tmp_path / "gate").unlink()
    (tmp_path / "loading").unlink()
    meta_path = list(sys.meta_path)
    loading = threading.Thread(target=load, args=(tmp_path / "w.py", "gated"))
    loading.start()
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "loading").exists():
            assert time.monotonic() < deadline, "the load did not begin"
            time.sleep(0.005)
        assert sys.meta_path == meta_path
        sys.modules.pop("shadowed_only_here", None)
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("shadowed_only_here")
    finally:
        (tmp_path / "gate").touch()
        loading.join()
    assert sys.meta_path == meta_path
