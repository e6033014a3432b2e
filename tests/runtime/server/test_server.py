from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest

from runtime.config import load_config
from runtime.errors import StartupError
from runtime.server.serve import _bind, check_exposure
from tests.support import write_files


def config(tmp_path: Path, **environ: str) -> object:
    write_files(tmp_path, {"kv.yaml": ""})
    return load_config(tmp_path / "kv.yaml", environ=environ)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_need_no_tokens(tmp_path: Path, host: str) -> None:
    check_exposure(dataclasses.replace(config(tmp_path), host=host))  # type: ignore[type-var]


def test_a_public_address_needs_api_tokens(tmp_path: Path) -> None:
    open_config = dataclasses.replace(config(tmp_path), host="0.0.0.0")  # type: ignore[type-var]
    with pytest.raises(StartupError, match="refusing to listen on 0.0.0.0: it is not a loopback address"):
        check_exposure(open_config)
    secured = dataclasses.replace(config(tmp_path, WORKERHOST_API_TOKENS="t"), host="0.0.0.0")  # type: ignore[type-var]
    check_exposure(secured)


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"cannot listen on 127.0.0.1:{port}: the port is already in use"):
            _bind("127.0.0.1", port)
