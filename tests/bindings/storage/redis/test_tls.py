"""``rediss://``: the engine over TLS, against a real ``redis-server`` serving only TLS with a self-signed
certificate made for the test."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bindings.errors import StorageUnavailableError
from bindings.storage.redis import RedisStore
from tests.redis_support import STARTUP_TIMEOUT, redis_binary
from tests.support import free_port

pytestmark = pytest.mark.anyio


def _certificate(directory: Path) -> Path:
    openssl = shutil.which("openssl") or pytest.fail("openssl is needed to make the test's certificate")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(directory / "key.pem"),
         "-out", str(directory / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return directory / "cert.pem"


def _answers(port: int, certificate: Path) -> bool:
    context = ssl.create_default_context(cafile=str(certificate))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    certificate = _certificate(tmp_path)
    port = free_port()
    command = [redis_binary(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    command += ["--tls-cert-file", str(certificate), "--tls-key-file", str(tmp_path / "key.pem")]
    command += ["--tls-ca-cert-file", str(certificate), "--tls-auth-clients", "no"]
    command += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(port, certificate):
            assert process.poll() is None and time.monotonic() < deadline, "the TLS redis-server did not start"
            time.sleep(0.05)
        yield port, certificate
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_a_rediss_location_stores_over_tls(tls_server: tuple[int, Path]) -> None:
    port, certificate = tls_server
    store = RedisStore(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={certificate}")
    try:
        storage = await store.namespace((await store.create_namespace("secure")).id)
        await storage.put(b"k", b"over tls", None, None)
        entry = await storage.get(b"k")
        assert entry is not None and entry.value == b"over tls"
        assert (await store.durability()).durable is True
    finally:
        await store.close()


async def test_a_certificate_that_is_not_trusted_is_refused(tls_server: tuple[int, Path]) -> None:
    port, _ = tls_server
    store = RedisStore(f"rediss://127.0.0.1:{port}/0")  # the system's CAs: they never signed this one
    try:
        with pytest.raises(StorageUnavailableError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await store.list_namespaces()
    finally:
        await store.close()
