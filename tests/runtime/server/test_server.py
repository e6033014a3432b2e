from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runtime.config import RuntimeConfig, load_config
from runtime.config.exposure import check_exposure
from runtime.errors import StartupError
from runtime.server.listen import bind
from tests.support import write_files


def config(tmp_path: Path, **environ: str) -> RuntimeConfig:
    write_files(tmp_path, {"kv.yaml": ""})
    return load_config(tmp_path / "kv.yaml", environ=environ)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_need_no_tokens(tmp_path: Path, host: str) -> None:
    loaded = config(tmp_path)
    check_exposure(host, loaded.api)


def test_a_public_address_needs_api_tokens(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="refusing to listen on 0.0.0.0: it is not a loopback address"):
        check_exposure("0.0.0.0", config(tmp_path).api)
    check_exposure("0.0.0.0", config(tmp_path, WORKERHOST_API_TOKENS="t").api)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}: the port is already in use"):
            bind("127.0.0.1", port)
