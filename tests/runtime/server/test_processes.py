"""``workerhost dev --workers N``: real server processes sharing one port and one store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.config import load_config
from runtime.errors import ConfigError
from tests.support import ROOT, DevServer, eventually, free_port, write_files

PROJECT = {
    "kv.yaml": """
        kv_namespaces:
          - title: shared
        workers:
          - name: app
            script: worker.py
            routes: ["/*"]
            kv_namespaces: [{binding: KV, namespace: shared}]
    """,
    "worker.py": """
        import os

        from runtime import Response


        async def fetch(request, env, ctx):
            path = request.url.path
            if path == "/pid":
                return Response(str(os.getpid()))
            key = request.query_params.get("key", "k")
            if path == "/put":
                await env.KV.put(key, request.query_params["value"])
                return Response("stored")
            if path == "/get":
                return Response(f"{os.getpid()} {await env.KV.get(key)}")
            return Response("hello")
    """,
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_files(tmp_path, PROJECT)


def _start_two(project: Path) -> DevServer:
    """A server with two processes, returned once both serve (the banner comes after the last one starts)."""
    server = DevServer(project / "kv.yaml", project / "data", args=("--workers", "2")).start()
    try:
        eventually(lambda: "Ready on" in server.stdout(), what="both processes to start")
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture
def two(project: Path) -> Iterator[DevServer]:
    server = _start_two(project)
    try:
        yield server
    finally:
        server.stop()


def _clients_per_process(server: DevServer, wanted: int = 2) -> dict[int, httpx.Client]:
    """Kept-alive clients, one per serving process (the kernel hands each new connection to one of them)."""
    clients: dict[int, httpx.Client] = {}
    for _ in range(200):
        client = httpx.Client(base_url=server.url, timeout=10)
        pid = int(client.get("/pid").text)
        if pid in clients:
            client.close()
        else:
            clients[pid] = client
        if len(clients) == wanted:
            return clients
    for client in clients.values():
        client.close()
    pytest.fail(f"only {len(clients)} of {wanted} processes answered 200 fresh connections")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2][:3]


def test_workers_flag_and_environment_set_the_number_of_processes(project: Path) -> None:
    assert load_config(project / "kv.yaml", environ={}, overrides={"processes": "3"}).processes == 3
    assert load_config(project / "kv.yaml", environ={"WORKERHOST_WORKERS": "2"}).processes == 2
    assert load_config(project / "kv.yaml", environ={}).processes == 1
    with pytest.raises(ConfigError, match=r"^--workers must be a number from 1 to 64, got '0'$"):
        load_config(project / "kv.yaml", environ={"WORKERHOST_WORKERS": "0"})


@pytest.mark.skipif(not hasattr(os, "fork") or not Path("/proc").is_dir(), reason="needs fork and /proc")
class TestTwoProcesses:
    def test_both_processes_serve_one_port(self, two: DevServer) -> None:
        clients = _clients_per_process(two)
        try:
            assert len(clients) == 2
            assert sorted(clients) == sorted(_children(two.process.pid))  # type: ignore[union-attr]
        finally:
            for client in clients.values():
                client.close()

    def test_a_write_through_either_process_is_read_at_once_through_the_other(self, two: DevServer) -> None:
        clients = _clients_per_process(two)
        try:
            (first, a), (second, b) = clients.items()
            for n in range(20):
                writer, reader, reader_pid = (a, b, second) if n % 2 else (b, a, first)
                assert writer.get("/put", params={"key": "shared", "value": f"v{n}"}).text == "stored"
                assert reader.get("/get", params={"key": "shared"}).text == f"{reader_pid} v{n}"
        finally:
            for client in clients.values():
                client.close()

    def test_banner_is_printed_once_and_says_reload_is_off(self, two: DevServer) -> None:
        banner = eventually(lambda: two.stdout() if "Ready on" in two.stdout() else "", what="the banner")
        assert banner.count("Ready on") == 1
        assert "Reload     off" in banner
        assert "Processes  2, sharing the port and the KV data (--workers)" in banner
        assert two.status()["reload"]["enabled"] is False

    @pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
    def test_a_signal_stops_every_process_cleanly(self, project: Path, sig: int) -> None:
        server = _start_two(project)
        children = _children(server.process.pid)  # type: ignore[union-attr]
        assert len(children) == 2
        assert server.stop(sig) == 0
        assert not any(_alive(pid) for pid in children)
        assert "Traceback" not in server.stderr()

    def test_processes_stop_when_the_parent_is_killed(self, project: Path) -> None:
        server = _start_two(project)
        children = _children(server.process.pid)  # type: ignore[union-attr]
        try:
            server.process.kill()  # type: ignore[union-attr]
            server.process.wait()  # type: ignore[union-attr]
            eventually(lambda: not any(_alive(pid) for pid in children), what="the orphaned processes to stop")
        finally:
            for pid in children:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            server.stop()

    def test_a_process_that_dies_stops_the_others_with_an_error(self, project: Path) -> None:
        server = _start_two(project)
        try:
            children = _children(server.process.pid)  # type: ignore[union-attr]
            os.kill(children[1], signal.SIGKILL)
            assert server.process.wait(timeout=30) == 1  # type: ignore[union-attr]
            assert not any(_alive(pid) for pid in children)
            assert "exited with status -9; the others were stopped" in server.stderr()
        finally:
            server.stop()


def test_a_broken_script_is_reported_once_and_nothing_serves(project: Path) -> None:
    (project / "worker.py").write_text("def fetch(:\n", encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "runtime", "dev", "--config", str(project / "kv.yaml"), "--port", str(port)]
    done = subprocess.run(
        [*command, "--workers", "2", "--persist-to", str(project / "data")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("workerhost: error: worker.py has a syntax error") == 1
