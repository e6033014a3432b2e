"""``workerhost kv`` as a real process: progress bars on a terminal only, pipes, start-up cost."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

PAIRS = 3000
LISTED = 20_000


def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "runtime", "kv", *argv]


def _environ(project: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WORKERHOST_")}
    return {**environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}


def _pairs_file(project: Path, count: int = PAIRS) -> Path:
    path = project / "pairs.json"
    path.write_text(json.dumps([{"key": f"k{index:05d}", "value": "v"} for index in range(count)]))
    return path


def _namespace(project: Path) -> str:
    created = subprocess.run(
        _command("namespace", "create", "data"), cwd=project, env=_environ(project), capture_output=True, check=True
    )
    return str(json.loads(created.stdout)["id"])


def _on_a_terminal(project: Path, *argv: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; returns the exit status and everything drawn there."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            _command(*argv), cwd=project, env=_environ(project), stdout=subprocess.DEVNULL, stderr=terminal
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        return process.wait(timeout=60), drawn.decode("utf-8", "replace")
    finally:
        os.close(controller)


def test_a_bulk_put_draws_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    namespace_id = _namespace(tmp_path)
    status, drawn = _on_a_terminal(tmp_path, "bulk", "put", str(_pairs_file(tmp_path)), "--namespace-id", namespace_id)
    assert status == 0
    assert "\x1b[" in drawn and "━" in drawn  # rich's bar, drawn with terminal control sequences
    assert f'wrote {PAIRS} pairs to namespace "data"' in drawn


def test_piped_there_is_no_progress_bar_only_the_closing_note(tmp_path: Path) -> None:
    namespace_id = _namespace(tmp_path)
    env = _environ(tmp_path)
    put = _command("bulk", "put", str(_pairs_file(tmp_path)), "--namespace-id", namespace_id)
    done = subprocess.run(put, cwd=tmp_path, env=env, capture_output=True, check=True)
    assert (done.stdout, done.stderr) == (b"", f'wrote {PAIRS} pairs to namespace "data"\n'.encode())
    exported = subprocess.run(_command("export", "data"), cwd=tmp_path, env=env, capture_output=True, check=True)
    assert exported.stderr == f'exported {PAIRS} keys from namespace "data"\n'.encode()
    assert len(exported.stdout.splitlines()) == PAIRS + 2


def test_a_listing_streams_valid_json_and_a_closed_pipe_ends_it_quietly(tmp_path: Path) -> None:
    namespace_id = _namespace(tmp_path)
    env = _environ(tmp_path)
    # Well past a pipe's 64 KiB, so the listing is still writing when the reader leaves (3,000 keys
    # listed fit in the pipe: the command could finish before the close, and rightly exit 0).
    subprocess.run(
        _command("bulk", "put", str(_pairs_file(tmp_path, LISTED)), "--namespace-id", namespace_id),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=True,
    )
    listing = _command("key", "list", "--namespace-id", namespace_id)
    whole = subprocess.run(listing, cwd=tmp_path, env=env, capture_output=True, check=True)
    assert len(json.loads(whole.stdout)) == LISTED and len(whole.stdout) > 4 * 65536
    # Like `workerhost kv key list ... | head -c 20`: the reader leaves after a few bytes.
    process = subprocess.Popen(listing, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(20)
    process.stdout.close()
    assert process.stderr.read() == b""  # no traceback
    process.stderr.close()
    assert process.wait(timeout=60) == 1


def test_workerhost_kv_imports_neither_the_server_nor_rich_when_piped(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from runtime.cli import main\n"
        f"main(['kv', 'namespace', 'list', '--persist-to', {str(tmp_path / 'data')!r}])\n"
        "heavy = {'starlette', 'uvicorn', 'httpx', 'rich', 'watchfiles'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print(heavy, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=_environ(tmp_path), capture_output=True)
    assert (done.stdout, done.stderr) == (b"[]\n", b"[]\n")
