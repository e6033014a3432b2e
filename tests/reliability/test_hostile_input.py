"""Hostile input against the real host (``workerhost dev`` in a subprocess, API tokens set): each gets a
clear error, no stored data changes, and the host goes on serving.

Requests go through the whole path (uvicorn, the host's prefix dispatch, the REST API or a handler),
most as raw bytes so nothing normalises them on the way (``..`` and ``%2e`` stay as sent). Each case of
the issue, its tests here, and where it is also covered (``api/`` is ``tests/runtime/api``, against the
REST API app alone; ``bindings/`` the binding with no HTTP):

===========================  ==========================================================================================
hostile input                tests
===========================  ==========================================================================================
namespace ids ``../../etc``  test_namespace_ids_that_try_to_leave_the_store_are_refused;
``%2e%2e``, > 32 characters  test_exposure.py::test_no_request_reaches_a_file_outside_the_persist_directory;
                             api/test_namespaces.py::test_get_of_a_malformed_namespace_id_is_10013;
                             bindings/storage/test_contract.py::test_unknown_or_malformed_namespace_ids_are_not_found
keys empty, ``.``, ``..``,   test_keys_the_service_refuses, test_a_key_of_512_bytes_is_stored_exactly;
512 / 513 bytes              api/test_values.py::test_an_empty_key_is_400, ::test_dot_keys_are_400,
                             ::test_a_key_over_512_bytes_is_414; bindings/test_kv.py::test_key_of_512_bytes_is_accepted
keys with NUL, lone          test_keys_with_nul_or_an_encoded_slash_are_just_keys, test_keys_the_service_refuses,
surrogates, an encoded       test_a_handler_key_with_a_lone_surrogate_is_refused;
slash                        api/test_values.py::test_percent_encoded_keys_round_trip,
                             ::test_a_key_that_is_not_utf8_is_400;
                             bindings/test_kv.py::test_keys_may_hold_any_unicode_and_nul,
                             ::test_key_that_cannot_be_utf8_encoded_is_refused
``Content-Length`` of 10 GB  test_a_10_gb_content_length_is_refused_unread,
                             test_a_10_gb_content_length_to_a_handler_is_413_before_the_body_is_read;
                             api/test_values.py::test_an_announced_oversized_value_is_refused_before_its_body_is_read;
                             api/test_bulk.py::test_bulk_write_announced_over_100_mb_is_refused_before_its_body_is_read
a body that never ends       test_an_endless_body_is_refused_at_the_limit;
                             api/test_values.py::test_an_endless_value_is_refused_at_the_limit,
                             ::test_an_endless_form_is_refused_at_the_limit;
                             api/test_bulk.py::test_bulk_write_streaming_past_100_mb_is_refused_at_the_limit
malformed multipart          test_malformed_multipart_is_400;
                             api/test_values.py::test_put_with_malformed_multipart_is_400
JSON nested 100,000 deep     test_json_nested_100000_deep_is_a_clear_error,
                             test_json_nested_100000_deep_in_a_handler_is_a_500_naming_the_error;
                             api/test_bulk.py::test_bulk_write_of_json_nested_100000_deep_is_400
a bulk of 10,001 items       test_a_bulk_of_10001_items_is_400; api/test_bulk.py::test_bulk_write_of_10001_pairs_is_400,
                             ::test_bulk_delete_of_10001_keys_is_400
metadata of 1025 bytes       test_metadata_of_1025_bytes_is_413 (REST form, bulk, binding in a handler);
                             api/test_values.py::test_put_with_metadata_over_1024_bytes_is_413;
                             bindings/test_kv.py::test_put_validates_metadata_size
non-UTF-8 bytes where text   test_non_utf8_json_bodies_are_400, test_non_utf8_metadata_is_10147,
is expected                  test_handlers_read_non_utf8_text_as_fetch_does;
                             api/test_values.py::test_put_with_metadata_that_is_not_utf8_is_10147_and_stores_nothing;
                             runtime/handlers/test_workers.py::test_text_and_json_decode_bodies_as_fetch_does
a handler that raises or     test_a_handler_that_raises_or_exits_gets_a_500,
exits                        test_wait_until_work_that_exits_does_not_stop_the_host,
                             test_a_script_that_exits_at_import_fails_to_load_and_the_host_keeps_serving;
                             runtime/host/test_e2e.py::test_handler_exception_shows_traceback_hides_secret_and_server_...
a handler that returns       test_a_handler_that_returns_garbage_gets_a_500,
garbage                      test_a_response_that_fails_while_sent_ends_the_connection_and_is_logged;
                             runtime/host/test_host.py::test_returning_a_non_response_is_a_500_naming_it
a handler that blocks the    test_a_handler_that_blocks_the_loop_is_logged_with_how_long_and_the_host_serves_on;
event loop                   runtime/host/test_watchdog.py
===========================  ==========================================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from runtime.handlers.workers import MAX_REQUEST_BODY_BYTES
from tests.redis_fixtures import storage_under_test
from tests.support import DevServer, dev_server, eventually, write_files

from .support import (
    API_ENV,
    MIB,
    NAMESPACES,
    PROBE_PROJECT,
    WRITE_TOKEN,
    RawResponse,
    raw_request,
    request_bytes,
    send_endless,
    snapshot,
)

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
TEN_GB = str(10 * 1024**3)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    project = write_files(tmp_path_factory.mktemp("hostile"), PROBE_PROJECT)
    server = DevServer(project / "kv.yaml", project / "data", args=("--no-reload",), env=API_ENV).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ns(server: DevServer) -> str:
    """The namespace the probe worker writes, seeded with a few keys."""
    (binding,) = server.status()["workers"][0]["bindings"][:1]
    namespace_id: str = binding["namespace_id"]
    pairs = [{"key": f"seed/{n}", "value": f"value {n}", "metadata": {"n": n}} for n in range(3)]
    assert server.client.put(f"{NAMESPACES}/{namespace_id}/bulk", json=pairs, headers=AUTH).status_code == 200
    return namespace_id


@pytest.fixture
def unchanged(server: DevServer, ns: str) -> Iterator[None]:
    """Whatever the test sends, no stored row changes (and the host still answers)."""
    before = snapshot(server.persist_to)
    yield
    assert snapshot(server.persist_to) == before
    assert server.client.get("/__workerhost/status").status_code == 200


def send(
    server: DevServer, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> RawResponse:
    return raw_request(server.port, request_bytes(method, target, {**AUTH, **(headers or {})}, body))


def envelope_error(response: RawResponse) -> tuple[int, int, str]:
    """(status, first error code, its message) of a Cloudflare failure envelope."""
    body = json.loads(response.body)
    assert body["success"] is False and body["result"] is None, body
    return response.status, body["errors"][0]["code"], body["errors"][0]["message"]


# --- namespace ids --------------------------------------------------------------------------------

HOSTILE_IDS = [
    "..",
    "../../etc",
    "..%2F..%2Fetc",
    "%2e%2e",
    "%2E%2E%2F%2E%2E%2Fetc",
    "%2fetc%2fpasswd",
    "catalog",
    "..%5C..%5Cetc",
    "%00",
    "a" * 33,
    "0" * 31 + "g",
    "ABCDEF" + "0" * 26,
    "~root",
]


BODIES = {
    "": b'{"title": "x"}',
    "/values/k": b"v",
    "/bulk": b"[]",
    "/bulk/delete": b"[]",
    "/bulk/get": b'{"keys": ["k"]}',
}


@pytest.mark.parametrize("namespace_id", HOSTILE_IDS)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("GET", "/keys"),
        ("PUT", "/values/k"),
        ("GET", "/values/k"),
        ("DELETE", "/values/k"),
        ("GET", "/metadata/k"),
        ("PUT", "/bulk"),
        ("POST", "/bulk/delete"),
        ("POST", "/bulk/get"),
    ],
)
def test_namespace_ids_that_try_to_leave_the_store_are_refused(
    server: DevServer, unchanged: None, namespace_id: str, method: str, suffix: str
) -> None:
    body = b"" if method == "GET" else BODIES.get(suffix, b"")
    response = send(server, method, f"{NAMESPACES}/{namespace_id}{suffix}", {"Content-Type": "application/json"}, body)
    status, code, message = envelope_error(response)
    assert (status, code) in {(404, 10013), (404, 7000), (405, 7001)}, message


# --- keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "status", "message"),
    [
        ("", 400, "put: 'Key names must not be empty'"),
        (".", 400, "put: 'Illegal key name \".\". Please use a different name.'"),
        ("..", 400, "put: 'Illegal key name \"..\". Please use a different name.'"),
        ("%2e", 400, "put: 'Illegal key name \".\". Please use a different name.'"),
        ("%2E%2e", 400, "put: 'Illegal key name \"..\". Please use a different name.'"),
        ("a" * 513, 414, "put: 'UTF-8 encoded length of 513 exceeds key length limit of 512.'"),
        ("%C3%A9" * 256 + "a", 414, "put: 'UTF-8 encoded length of 513 exceeds key length limit of 512.'"),
        ("%ED%A0%80", 400, "put: 'Could not URL-decode key name'"),  # a lone surrogate, as UTF-8 would spell it
        ("%FF", 400, "put: 'Could not URL-decode key name'"),
    ],
)
def test_keys_the_service_refuses(
    server: DevServer, ns: str, unchanged: None, encoded: str, status: int, message: str
) -> None:
    response = send(server, "PUT", f"{NAMESPACES}/{ns}/values/{encoded}", body=b"v")
    assert envelope_error(response) == (status, 10001, message)


def test_a_key_of_512_bytes_is_stored_exactly(server: DevServer, ns: str) -> None:
    key = "é" * 256
    url = f"{NAMESPACES}/{ns}/values/{quote(key, safe='')}"
    assert send(server, "PUT", url, body=b"v512").status == 200
    assert send(server, "GET", url).body == b"v512"
    assert send(server, "DELETE", url).status == 200


@pytest.mark.parametrize(
    ("encoded", "key"),
    [("nul%00byte", "nul\x00byte"), ("a%2Fb", "a/b"), ("..%2F..%2Fetc%2Fpasswd", "../../etc/passwd"), ("%2F", "/")],
)
def test_keys_with_nul_or_an_encoded_slash_are_just_keys(server: DevServer, ns: str, encoded: str, key: str) -> None:
    # Valid keys in Cloudflare too: stored under exactly that name, and never part of a file name.
    url = f"{NAMESPACES}/{ns}/values/{encoded}"
    assert send(server, "PUT", url, body=b"stored").status == 200
    assert send(server, "GET", url).body == b"stored"
    listed = json.loads(send(server, "GET", f"{NAMESPACES}/{ns}/keys?prefix={encoded}").body)["result"]
    assert [item["name"] for item in listed] == [key]
    assert send(server, "DELETE", url).status == 200
    if storage_under_test() == "sqlite":
        files = {path.name for path in (server.persist_to / "kv").iterdir() if not path.name.endswith(("-wal", "-shm"))}
        assert files == {"catalog.sqlite3", f"{ns}.sqlite3"}


def test_a_handler_key_with_a_lone_surrogate_is_refused(server: DevServer, unchanged: None) -> None:
    response = server.client.post("/probe/put-json", content=b'{"key": "\\ud800", "value": "v"}')
    assert (response.status_code, response.text) == (400, "KV PUT failed: 400 Could not URL-decode key name")


# --- oversized and endless bodies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "content_type", "message"),
    [
        (
            "PUT",
            "/values/k",
            "application/octet-stream",
            "put: 'Value length of 10737418240 exceeds limit of 26214400.'",
        ),
        (
            "PUT",
            "/values/k",
            "multipart/form-data; boundary=x",
            "put: 'Value length of 10737418240 exceeds limit of 26214400.'",
        ),
        (
            "PUT",
            "/bulk",
            "application/json",
            "bulk put keys: 'Request body of 10737418240 bytes or more exceeds the limit of 100000000 bytes.'",
        ),
        ("POST", "/bulk/delete", "application/json", None),
        ("POST", "/bulk/get", "application/json", None),
    ],
)
def test_a_10_gb_content_length_is_refused_unread(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str, content_type: str, message: str | None
) -> None:
    headers = {"Content-Length": TEN_GB, "Content-Type": content_type}
    status, code, text = envelope_error(send(server, method, f"{NAMESPACES}/{ns}{suffix}", headers, b"start"))
    assert (status, code) == (413, 10001)
    assert text == message or (message is None and "exceeds the limit of" in text)


def test_a_10_gb_content_length_to_a_handler_is_413_before_the_body_is_read(server: DevServer, unchanged: None) -> None:
    response = raw_request(server.port, request_bytes("POST", "/probe/length", {"Content-Length": TEN_GB}, b"start"))
    assert response.status == 413
    assert response.text.startswith(
        f"413 Payload Too Large\n\nThe request was refused: the request body is {TEN_GB} bytes"
    )
    # A handler that never reads the body answers as usual.
    assert (
        raw_request(server.port, request_bytes("GET", "/probe/get?key=seed/0", {"Content-Length": TEN_GB})).text
        == "value 0"
    )


def test_an_endless_body_is_refused_at_the_limit(server: DevServer, ns: str, unchanged: None) -> None:
    response, sent = send_endless(server.port, "PUT", f"{NAMESPACES}/{ns}/values/k", AUTH, 64 * MIB)
    assert response.status == 413 and sent < 40 * MIB
    assert json.loads(response.body)["errors"][0]["message"].startswith("put: 'Value length of ")
    response, sent = send_endless(server.port, "POST", "/probe/length", {}, MAX_REQUEST_BODY_BYTES + 64 * MIB)
    assert response.status == 413 and MAX_REQUEST_BODY_BYTES <= sent < MAX_REQUEST_BODY_BYTES + 32 * MIB
    assert "over the 104857600 bytes (100 MiB) a Worker accepts" in response.text


# --- malformed bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", b"--x\r\n", "the Content-Type header has no boundary"),
        ("multipart/form-data; boundary=x", b"--x\r\nno-colon\r\n\r\nv\r\n--x--", "bad part header line 'no-colon'"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="value"\r\n\r\nv',
            "the closing boundary is missing",
        ),
        ("multipart/form-data; boundary=" + "x" * 5000, b"--x", "the boundary never occurs"),
    ],
)
def test_malformed_multipart_is_400(
    server: DevServer, ns: str, unchanged: None, content_type: str, body: bytes, reason: str
) -> None:
    response = send(server, "PUT", f"{NAMESPACES}/{ns}/values/seed%2F0", {"Content-Type": content_type}, body)
    assert envelope_error(response) == (400, 10001, f"put: 'Malformed multipart/form-data body: {reason}'")


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("method", "suffix", "operation"),
    [
        ("PUT", "/bulk", "bulk put keys"),
        ("POST", "/bulk/delete", "bulk remove keys"),
        ("POST", "/bulk/get", "bulk get keys"),
        ("PUT", "", "rename namespace"),
    ],
)
def test_json_nested_100000_deep_is_a_clear_error(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str, operation: str
) -> None:
    response = send(server, method, f"{NAMESPACES}/{ns}{suffix}", {"Content-Type": "application/json"}, DEEP)
    assert envelope_error(response) == (400, 10001, f"{operation}: 'Malformed JSON in request body: nested too deeply'")
    response = send(server, "POST", NAMESPACES, {"Content-Type": "application/json"}, b'{"title": ' + DEEP + b"}")
    assert envelope_error(response) == (
        400,
        10001,
        "create namespace: 'Malformed JSON in request body: nested too deeply'",
    )


def test_json_nested_100000_deep_in_a_handler_is_a_500_naming_the_error(server: DevServer, unchanged: None) -> None:
    response = server.client.post("/probe/json", content=DEEP)
    assert response.status_code == 500
    assert "RecursionError: maximum recursion depth exceeded" in response.text


@pytest.mark.parametrize(
    ("method", "suffix", "item"), [("PUT", "/bulk", {"key": "k", "value": "v"}), ("POST", "/bulk/delete", "k")]
)
def test_a_bulk_of_10001_items_is_400(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str, item: object
) -> None:
    body = json.dumps([item] * 10_001).encode()
    response = send(server, method, f"{NAMESPACES}/{ns}{suffix}", {"Content-Type": "application/json"}, body)
    status, code, message = envelope_error(response)
    assert (status, code) == (400, 10001)
    assert re.fullmatch(
        r"bulk (put|remove) keys: 'You can send a maximum of 10000 (key-value pairs|keys) per request'", message
    )


METADATA_1025 = json.dumps("x" * 1023)  # 1025 bytes with its quotes


def test_metadata_of_1025_bytes_is_413(server: DevServer, ns: str, unchanged: None) -> None:
    expected = (413, 10001, "put: 'Metadata length of 1025 exceeds limit of 1024.'")
    form = httpx.put(
        f"{server.url}{NAMESPACES}/{ns}/values/seed%2F0",
        files={"value": (None, "v"), "metadata": (None, METADATA_1025)},
        headers=AUTH,
    )
    assert (form.status_code, form.json()["errors"][0]["code"], form.json()["errors"][0]["message"]) == expected
    pair = [{"key": "seed/0", "value": "v", "metadata": "x" * 1023}]
    bulk = send(
        server, "PUT", f"{NAMESPACES}/{ns}/bulk", {"Content-Type": "application/json"}, json.dumps(pair).encode()
    )
    assert envelope_error(bulk) == (413, 10001, "bulk put keys: 'Metadata length of 1025 exceeds limit of 1024.'")
    handler = server.client.post("/probe/put-json", json={"key": "seed/0", "value": "v", "metadata": "x" * 1023})
    assert (handler.status_code, handler.text) == (
        413,
        "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.",
    )


# --- bytes that are not UTF-8 ---------------------------------------------------------------------

NOT_UTF8 = b'{"title": "\xff\xfe"}'


@pytest.mark.parametrize(
    ("method", "suffix", "body", "operation"),
    [
        ("POST", None, NOT_UTF8, "create namespace"),
        ("PUT", "", NOT_UTF8, "rename namespace"),
        ("PUT", "/bulk", b'[{"key": "seed/0", "value": "\xff"}]', "bulk put keys"),
        ("POST", "/bulk/delete", b'["seed/0\xff"]', "bulk remove keys"),
        ("POST", "/bulk/get", b'{"keys": ["seed/0\xff"]}', "bulk get keys"),
    ],
)
def test_non_utf8_json_bodies_are_400(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str | None, body: bytes, operation: str
) -> None:
    target = NAMESPACES if suffix is None else f"{NAMESPACES}/{ns}{suffix}"
    status, code, message = envelope_error(send(server, method, target, {"Content-Type": "application/json"}, body))
    assert (status, code) == (400, 10001)
    assert message.startswith(f"{operation}: 'Malformed JSON in request body: 'utf-8' codec can't decode byte 0x")


def test_non_utf8_metadata_is_10147(server: DevServer, ns: str, unchanged: None) -> None:
    files = {"value": (None, "v"), "metadata": (None, b'{"a": "\xff"}', "application/json")}
    response = httpx.put(f"{server.url}{NAMESPACES}/{ns}/values/seed%2F0", files=files, headers=AUTH)
    assert response.status_code == 400 and response.json()["errors"] == [
        {"code": 10147, "message": "metadata must be valid json"}
    ]


def test_handlers_read_non_utf8_text_as_fetch_does(server: DevServer, unchanged: None) -> None:
    assert server.client.post("/probe/text", content=b"caf\xe9").json() == {"text": "caf\ufffd"}
    assert server.client.post("/probe/json", content=b'{"a": "\xff"}').json() == {"json": {"a": "\ufffd"}}


# --- handlers that misbehave ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        ("raise", "RuntimeError: cannot use [secret]"),
        ("exit", "SystemExit: 3"),
        ("interrupt", "KeyboardInterrupt"),
    ],
)
def test_a_handler_that_raises_or_exits_gets_a_500(server: DevServer, unchanged: None, action: str, shown: str) -> None:
    response = server.client.get(f"/probe/{action}")
    assert response.status_code == 500 and shown in response.text
    eventually(lambda: f"GET /probe/{action} raised" in server.stderr(), what="the error in the log")
    assert server.process is not None and server.process.poll() is None


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        ("none", "returned builtins.NoneType: None instead of a Response"),
        ("dict", "returned builtins.dict: {'not': 'a response'} instead of a Response"),
        ("number", "returned builtins.int: 42 instead of a Response"),
        ("coroutine", "returned builtins.coroutine: <coroutine object not_a_response"),
        ("status-99999", "ValueError: Responses may only be constructed with status codes in the range 200 to 599"),
        ("header-newline", "TypeError: Invalid header value for 'x-evil': it holds a line break or NUL"),
    ],
)
def test_a_handler_that_returns_garbage_gets_a_500(server: DevServer, unchanged: None, action: str, shown: str) -> None:
    response = server.client.get(f"/probe/{action}")
    assert response.status_code == 500 and shown in response.text
    assert "set-cookie" not in response.headers and "x-evil" not in response.headers


@pytest.mark.parametrize(
    ("action", "shown"),
    [("stream-fails-at-once", "the body broke at once"), ("stream-fails-midway", "the body broke halfway")],
)
def test_a_response_that_fails_while_sent_ends_the_connection_and_is_logged(
    server: DevServer, unchanged: None, action: str, shown: str
) -> None:
    # A stream's status line goes out before its body runs, so the client learns of the failure by a cut.
    with pytest.raises(httpx.RemoteProtocolError):
        server.client.get(f"/probe/{action}")
    eventually(
        lambda: f"GET /probe/{action}: sending its response raised RuntimeError" in server.stderr(),
        what="the failure in the log",
    )
    assert f"RuntimeError: {shown}" in server.stderr()
    assert server.client.get("/probe/get", params={"key": "seed/1"}).text == "value 1"


def test_wait_until_work_that_exits_does_not_stop_the_host(server: DevServer, unchanged: None) -> None:
    assert server.client.get("/probe/exit-later").text == "queued"
    eventually(
        lambda: "wait_until work raised" in server.stderr() and "SystemExit: 4" in server.stderr(), what="the log"
    )
    assert server.client.get("/probe/get", params={"key": "seed/2"}).text == "value 2"


def test_a_handler_that_blocks_the_loop_is_logged_with_how_long_and_the_host_serves_on(server: DevServer) -> None:
    assert server.client.get("/probe/block", params={"seconds": "0.6"}).text == "unblocked"
    line = eventually(
        lambda: re.search(
            r"worker probe blocked the event loop for (\d+) ms \(GET /probe/block\) at probe/worker\.py:\d+ in fetch",
            server.stderr(),
        ),
        what="the watchdog's line",
    )
    assert int(line[1]) >= 600
    assert server.client.get("/probe/get", params={"key": "seed/0"}).text == "value 0"


def test_a_script_that_exits_at_import_fails_to_load_and_the_host_keeps_serving(tmp_path: Path) -> None:
    project = write_files(tmp_path, PROBE_PROJECT)
    script = project / "probe" / "worker.py"
    with dev_server(project / "kv.yaml", project / "data") as server:
        assert server.client.get("/probe/text").status_code == 200
        script.write_text('import sys\n\nsys.exit("this script stops whoever imports it")\n')
        error = eventually(lambda: server.status()["reload"]["error"], what="the failed reload at the status route")
        assert error.startswith("probe/worker.py failed to import:")
        assert error.endswith("SystemExit: this script stops whoever imports it")
        assert server.client.get("/probe/text").status_code == 200  # the last good version serves on
