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
numbers of 5,000 digits, in  test_a_huge_number_in_a_query_is_the_same_400_as_any_out_of_range_value,
other scripts' digits        test_a_huge_number_in_a_json_body_gets_the_services_error,
(``٣٠``, ``²``), past the    test_metadata_holding_a_number_past_the_largest_double_is_10147,
largest double: REST query,  test_a_stored_json_value_past_the_largest_double_reads_as_json_parse_reads_it,
                             test_a_scheduled_run_at_an_absurd_time_is_400_and_runs_nothing,
                             test_a_scheduled_run_at_a_real_time_gets_that_time,
JSON bodies, dev-route       test_a_huge_or_foreign_number_as_a_binding_option_is_coerced_as_workerd_does,
``time``, binding options,   test_the_cli_refuses_a_huge_or_foreign_number_in_a_flag,
CLI flags and files,         test_the_cli_reads_a_bulk_file_of_huge_numbers_as_the_rest_api_does,
settings, kv.yaml numbers,   test_a_setting_in_foreign_or_endless_digits_is_a_config_error,
cron fields,                 test_a_number_of_5000_digits_in_kv_yaml_is_a_config_error_naming_the_line,
route ports,                 test_a_cron_field_or_route_port_in_foreign_or_endless_digits_is_a_config_error,
``Content-Length``,          test_a_content_length_in_foreign_or_endless_digits_is_no_500,
a handler's request.json()   test_a_handler_reads_a_json_body_of_huge_numbers_as_json_parse_does;
                             bindings/test_limits.py::test_parse_int_reads_numbers_of_any_length_as_javascript_does,
                             ::test_number_options_read_only_javascripts_numerals; bindings/test_digits.py;
                             runtime/testing/test_testing.py::test_a_time_past_9999_is_refused_and_nothing_runs_at_it
a newline in a path or cron  test_a_newline_in_a_path_or_cron_cannot_forge_a_log_line
a title with a lone          test_a_namespace_title_with_a_lone_surrogate_is_400,
surrogate                    test_the_cli_refuses_a_title_of_bytes_that_are_not_utf8
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

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from runtime.handlers.workers import MAX_REQUEST_BODY_BYTES
from tests.redis_fixtures import storage_under_test
from tests.support import DevServer, app_client, dev_server, eventually, write_files

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
    assert server.client.get("/__workerhost/status", headers=AUTH).status_code == 200


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
        # The live feed's journal names keys inside its lines, never in a file name (README "Dashboard").
        files = {
            path.name
            for path in (server.persist_to / "kv").iterdir()
            if not path.name.endswith(("-wal", "-shm")) and not path.name.startswith("changes.")
        }
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


@pytest.mark.parametrize(("method", "suffix", "operation"), [("POST", None, "create"), ("PUT", "", "rename")])
def test_a_namespace_title_with_a_lone_surrogate_is_400(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str | None, operation: str
) -> None:
    # Valid JSON ("\ud800") with no UTF-8 form: it reached SQLite and was a 500.
    target = NAMESPACES if suffix is None else f"{NAMESPACES}/{ns}{suffix}"
    body = b'{"title": "half \\ud800 a pair"}'
    response = send(server, method, target, {"Content-Type": "application/json"}, body)
    message = f"{operation} namespace: 'title is not valid Unicode (it has a lone surrogate)'"
    assert envelope_error(response) == (400, 10001, message)


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


# --- numbers --------------------------------------------------------------------------------------

BIG = "9" * 5000  # past Python's int-conversion limit of 4,300 digits
OUT_OF_INT32 = "Value out of range. Must be between -2147483648 and 2147483647 (inclusive)."


def limit_message(operation: str, name: str, raw: str, high: int, low: int = 1) -> str:
    return f"{operation}: 'Invalid {name} of {raw}. Please specify an integer between {low} and {high}.'"


@pytest.mark.parametrize(
    ("target", "raw", "message"),
    [
        ("/keys?limit=", BIG, limit_message("list keys", "limit", BIG, 1000, 10)),
        ("/keys?limit=", "-" + BIG, limit_message("list keys", "limit", "-" + BIG, 1000, 10)),
        ("/keys?limit=", "5000", limit_message("list keys", "limit", "5000", 1000, 10)),  # any other out-of-range value
        ("/keys?limit=", "%D9%A3%D9%A0", limit_message("list keys", "limit", "٣٠", 1000, 10)),  # Arabic-Indic 30
        ("/keys?limit=", "%C2%B2", limit_message("list keys", "limit", "²", 1000, 10)),
        ("?page=", BIG, limit_message("list namespaces", "page", BIG, 2147483647)),
        ("?per_page=", BIG, limit_message("list namespaces", "per_page", BIG, 1000)),
        ("?per_page=", "1001", limit_message("list namespaces", "per_page", "1001", 1000)),
        # Not integers, as the schema requires (schemathesis found the first one accepted as 5).
        ("?per_page=", "5.7e-150", limit_message("list namespaces", "per_page", "5.7e-150", 1000)),
        ("/keys?limit=", "100abc", limit_message("list keys", "limit", "100abc", 1000, 10)),
        ("/values/seed%2F0?expiration_ttl=", BIG, f"put: '{OUT_OF_INT32}'"),
        ("/values/seed%2F0?expiration=", BIG, f"put: '{OUT_OF_INT32}'"),
        ("/values/seed%2F0?expiration=", "-" + BIG, f"put: '{OUT_OF_INT32}'"),
        ("/values/seed%2F0?expiration_ttl=", "9" * 400, f"put: '{OUT_OF_INT32}'"),
        ("/values/seed%2F0?expiration_ttl=", str(2**40), f"put: '{OUT_OF_INT32}'"),
        (
            "/values/seed%2F0?expiration_ttl=",
            "%D9%A6%D9%A0",  # Arabic-Indic 60: parseInt reads no digits in it
            "put: 'Invalid expiration_ttl of ٦٠. Please specify integer greater than 0.'",
        ),
        ("/values/seed%2F0?expiration_ttl=", "0x" + "f" * 400, f"put: '{OUT_OF_INT32}'"),
    ],
)
def test_a_huge_number_in_a_query_is_the_same_400_as_any_out_of_range_value(
    server: DevServer, ns: str, unchanged: None, target: str, raw: str, message: str
) -> None:
    path = f"{NAMESPACES}{target}{raw}" if target.startswith("?") else f"{NAMESPACES}/{ns}{target}{raw}"
    method = "PUT" if "/values/" in target else "GET"
    assert envelope_error(send(server, method, path, body=b"v" if method == "PUT" else b"")) == (400, 10001, message)


INFINITE_TTL = "bulk put keys: 'Invalid expiration_ttl of Infinity. Please specify integer greater than 0.'"
INFINITE_EXPIRATION = (
    "bulk put keys: 'Invalid expiration of {}. Please specify integer greater than the current number of seconds "
    "since the UNIX epoch.'"
)


@pytest.mark.parametrize(
    ("method", "suffix", "body", "expected"),
    [
        # JSON.parse reads a number of any length as a double: this one is Infinity, and String(Infinity)
        # is what the service then gets (README, "REST API").
        ("PUT", "/bulk", f'[{{"key": "k", "value": "v", "expiration_ttl": {BIG}}}]', (400, 10001, INFINITE_TTL)),
        (
            "PUT",
            "/bulk",
            f'[{{"key": "k", "value": "v", "expiration": {BIG}}}]',
            (400, 10033, INFINITE_EXPIRATION.format("Infinity")),
        ),
        (
            "PUT",
            "/bulk",
            f'[{{"key": "k", "value": "v", "expiration": -{BIG}}}]',
            (400, 10033, INFINITE_EXPIRATION.format("-Infinity")),
        ),
        ("PUT", "/bulk", '[{"key": "k", "value": "v", "expiration_ttl": 1e400}]', (400, 10001, INFINITE_TTL)),
        (
            "PUT",
            "/bulk",
            f'[{{"key": "k", "value": "v", "metadata": {{"n": {BIG}}}}}]',
            (400, 10147, "metadata must be valid json"),
        ),
        (
            "PUT",
            "/bulk",
            f'[{{"key": "k", "value": "v", "expiration_ttl": {"9" * 400}}}]',
            (400, 10001, f"bulk put keys: 'Invalid item at index 0: \"expiration_ttl\": {OUT_OF_INT32}'"),
        ),
        (
            "POST",
            "/bulk/delete",
            f"[{BIG}]",
            (
                400,
                10001,
                "bulk remove keys: 'Invalid item at index 0: each item must be a key name (a string, "
                "or an object with a \"name\" string)'",
            ),
        ),
        (
            "POST",
            "/bulk/get",
            f'{{"keys": ["seed/0"], "withMetadata": {BIG}}}',
            (400, 10001, "bulk get keys: '\"withMetadata\" must be a boolean'"),
        ),
        ("PUT", "", f'{{"title": {BIG}}}', (400, 10019, "request is missing a title definition")),
    ],
    ids=[
        "bulk ttl",
        "bulk expiration",
        "bulk negative expiration",
        "bulk ttl 1e400",
        "bulk metadata",
        "bulk ttl 400 digits",
        "bulk delete",
        "bulk get",
        "rename",
    ],
)
def test_a_huge_number_in_a_json_body_gets_the_services_error(
    server: DevServer, ns: str, unchanged: None, method: str, suffix: str, body: str, expected: tuple[int, int, str]
) -> None:
    response = send(server, method, f"{NAMESPACES}/{ns}{suffix}", {"Content-Type": "application/json"}, body.encode())
    assert envelope_error(response) == expected


def test_metadata_holding_a_number_past_the_largest_double_is_10147(
    server: DevServer, ns: str, unchanged: None
) -> None:
    # It parses (as Infinity), but no JSON can write it back; this was a 500.
    files = {"value": (None, "v"), "metadata": (None, '{"n": 1e400}')}
    response = httpx.put(f"{server.url}{NAMESPACES}/{ns}/values/seed%2F0", files=files, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": 10147, "message": "metadata must be valid json"}]


def test_a_stored_json_value_past_the_largest_double_reads_as_json_parse_reads_it(server: DevServer, ns: str) -> None:
    # JSON.parse makes 1e400 (or 5,000 digits) Infinity, which JSON.stringify writes as null; NaN is no JSON.
    # The first and the last were a 500, the middle one "a non-json value".
    values = {"json/inf": b'{"n": 1e400}', "json/big": b'{"n": ' + BIG.encode() + b"}", "json/nan": b'{"n": NaN}'}
    for key, value in values.items():
        assert send(server, "PUT", f"{NAMESPACES}/{ns}/values/{quote(key, safe='')}", body=value).status == 200
    body = json.dumps({"keys": ["json/inf", "json/big"], "type": "json"}).encode()
    response = send(server, "POST", f"{NAMESPACES}/{ns}/bulk/get", {"Content-Type": "application/json"}, body)
    assert response.status == 200
    assert json.loads(response.body)["result"] == {"values": {"json/inf": {"n": None}, "json/big": {"n": None}}}
    body = json.dumps({"keys": ["json/nan"], "type": "json"}).encode()
    response = send(server, "POST", f"{NAMESPACES}/{ns}/bulk/get", {"Content-Type": "application/json"}, body)
    message = "bulk get keys: 'At least one of the requested keys corresponds to a non-json value'"
    assert envelope_error(response) == (400, 10001, message)


SCHEDULED_TIME_ERROR = (
    "Invalid time of {}. Please specify milliseconds since the UNIX epoch, from 0 to 253402300799999 (9999-12-31)."
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("9" * 400, "9" * 40 + "... (400 characters)"),
        (BIG, "9" * 40 + "... (5000 characters)"),
        ("1e400", "1e400"),
        ("-5", "-5"),
        ("%C2%B2", "²"),
        ("%D9%A3", "٣"),
        ("soon", "soon"),
        ("253402300800000", "253402300800000"),  # a millisecond past 9999-12-31
    ],
)
@pytest.mark.parametrize("route", ["/__workerhost/scheduled?worker=probe&", "/__scheduled?"])
def test_a_scheduled_run_at_an_absurd_time_is_400_and_runs_nothing(
    server: DevServer, unchanged: None, route: str, raw: str, shown: str
) -> None:
    # A run would store its cron under "cron": the cron names the case, so any run changes the data.
    cron = quote(f"0 0 1 1 * {route[3:8]} {raw[:12]}")
    response = send(server, "GET", f"{route}cron={cron}&time={raw}")
    assert response.status == 400
    error = json.loads(response.body)["error"] if route.startswith("/__workerhost") else response.text
    assert error == SCHEDULED_TIME_ERROR.format(shown)


def test_a_scheduled_run_at_a_real_time_gets_that_time(server: DevServer) -> None:
    response = server.client.get(
        "/__workerhost/scheduled", params={"worker": "probe", "time": "1700000000123.5"}, headers=AUTH
    )
    assert response.status_code == 200
    assert response.json() == {
        "worker": "probe",
        "cron": "0 0 1 1 *",
        "scheduled_time": 1700000000123.5,
        "outcome": "ok",
    }


HUGE_TTL_IS_ZERO = "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."


@pytest.mark.parametrize(
    ("op", "name", "number", "expected"),
    [
        ("put", "expirationTtl", "huge-int", f"TypeError: {OUT_OF_INT32}"),
        # Number("9999...") and Number("0xffff...") are Infinity, which workerd's int options read as 0.
        ("put", "expirationTtl", "huge-text", HUGE_TTL_IS_ZERO),
        ("put", "expirationTtl", "huge-hex", HUGE_TTL_IS_ZERO),
        ("put", "expirationTtl", "huge-binary", HUGE_TTL_IS_ZERO),
        ("put", "expirationTtl", "infinity", HUGE_TTL_IS_ZERO),
        # JavaScript reads only ASCII digits, and no underscores: these are NaN, which is 0 too.
        ("put", "expirationTtl", "arabic-sixty", HUGE_TTL_IS_ZERO),
        ("put", "expirationTtl", "superscript-two", HUGE_TTL_IS_ZERO),
        ("put", "expirationTtl", "hex-with-underscore", HUGE_TTL_IS_ZERO),
        (
            "put",
            "expiration",
            "huge-hex",
            "KV PUT failed: 400 Invalid expiration of 0. Please specify integer greater than the current number of "
            "seconds since the UNIX epoch.",
        ),
        ("get", "cacheTtl", "huge-hex", "KV GET failed: 400 Invalid cache_ttl of 0. Cache TTL must be at least 30."),
        ("list", "limit", "huge-int", f"TypeError: {OUT_OF_INT32}"),
        ("list", "limit", "huge-hex", "ok"),  # 0 means the default limit
    ],
)
def test_a_huge_or_foreign_number_as_a_binding_option_is_coerced_as_workerd_does(
    server: DevServer, unchanged: None, op: str, name: str, number: str, expected: str
) -> None:
    response = server.client.get("/probe/option", params={"op": op, "name": name, "number": number})
    assert (response.status_code, response.text) == (200 if expected == "ok" else 400, expected)


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """``workerhost kv ARGV...`` in-process, on a store of its own with one namespace; returns (status, stderr)."""
    from runtime.cli.command import main

    for name in ("WORKERHOST_CONFIG", "WORKERHOST_PERSIST_TO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    def run(*argv: str) -> tuple[int, str]:
        try:
            status = main(["kv", *argv])
        except SystemExit as exc:  # argparse refuses the arguments
            status = int(exc.code or 0)
        return status, capsys.readouterr().err

    assert run("namespace", "create", "data", "--id", "0" * 32) == (0, "")
    return run


NS_ID = ("--namespace-id", "0" * 32)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("key", "put", "k", "v", "--ttl", BIG), OUT_OF_INT32),
        (("key", "put", "k", "v", "--expiration", "-" + BIG), OUT_OF_INT32),
        (("key", "put", "k", "v", "--ttl", str(2**40)), OUT_OF_INT32),
        (
            ("key", "put", "k", "v", "--ttl", "٦٠"),
            "KV PUT failed: 400 Invalid expiration_ttl of ٦٠. Please specify integer greater than 0.",
        ),
        (
            ("key", "list", "--limit", "²"),
            "argument --limit: expected a whole number from 1 to 9007199254740991, got '²'",
        ),
        (
            ("key", "list", "--limit", BIG),
            "argument --limit: expected a whole number from 1 to 9007199254740991, got '99999999999999999999'... "
            "(5000 characters)",
        ),
    ],
    ids=["ttl", "expiration", "ttl 2**40", "ttl Arabic-Indic 60", "limit ²", "limit 5000 digits"],
)
def test_the_cli_refuses_a_huge_or_foreign_number_in_a_flag(
    cli: Callable[..., tuple[int, str]], argv: tuple[str, ...], expected: str
) -> None:
    status, err = cli(*argv, *NS_ID)
    assert status in (1, 2) and err.rstrip().endswith(expected), err
    assert cli("key", "list", *NS_ID)[0] == 0


def test_a_handler_reads_a_json_body_of_huge_numbers_as_json_parse_does(server: DevServer, unchanged: None) -> None:
    # Python's json.loads raised ValueError past 4,300 digits: a 500 for any handler reading JSON.
    body = f'{{"big": {BIG}, "small": 7, "long": {"1" * 400}}}'.encode()
    response = server.client.post("/probe/json-types", content=body)
    assert response.json() == {"big": "float", "small": "int", "long": "int"}


def test_the_cli_refuses_a_title_of_bytes_that_are_not_utf8(cli: Callable[..., tuple[int, str]]) -> None:
    # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape)
    status, err = cli("namespace", "create", "caf\udce9")
    assert (status, err) == (1, "workerhost: error: title is not valid Unicode (it has a lone surrogate)\n")


def test_the_cli_reads_a_bulk_file_of_huge_numbers_as_the_rest_api_does(
    cli: Callable[..., tuple[int, str]], tmp_path: Path
) -> None:
    path = tmp_path / "pairs.json"
    path.write_text(f'[{{"key": "k", "value": "v", "expiration_ttl": {BIG}}}]', encoding="utf-8")
    status, err = cli("bulk", "put", str(path), *NS_ID)
    assert status == 1
    assert "Invalid expiration_ttl of Infinity. Please specify integer greater than 0." in err


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("WORKERHOST_PORT", "²", "port must be a number from 0 to 65535, got '²'"),
        ("WORKERHOST_PORT", "٣٠٠٠", "port must be a number from 0 to 65535, got '٣٠٠٠'"),
        ("WORKERHOST_PORT", "8_080", "port must be a number from 0 to 65535, got '8_080'"),
        ("WORKERHOST_PORT", BIG, "port must be a number from 0 to 65535, got '99999999999999999999999999999999999...'"),
        ("WORKERHOST_WORKERS", "²", "--workers must be a number from 1 to 64, got '²'"),
        (
            "WORKERHOST_WORKERS",
            BIG,
            "--workers must be a number from 1 to 64, got '99999999999999999999999999999999999...'",
        ),
        (
            "WORKERHOST_MAX_DB_PAGES",
            BIG,
            "WORKERHOST_MAX_DB_PAGES must be a whole number of pages from 1 to 4294967294, "
            "got '99999999999999999999999999999999999...'",
        ),
    ],
)
def test_a_setting_in_foreign_or_endless_digits_is_a_config_error(
    tmp_path: Path, setting: str, value: str, message: str
) -> None:
    from runtime.config import load_config
    from runtime.errors import ConfigError

    write_files(tmp_path, {"kv.yaml": ""})
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "kv.yaml", environ={setting: value})
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("crons", "² * * * *", "minute field has '²'; expected a number, a range, a list, * or a step"),
        ("crons", "٣ * * * *", "minute field has '٣'; expected a number, a range, a list, * or a step"),
        ("crons", f"{BIG} * * * *", "minute 99999999... (5000 digits) is out of range"),
        ("crons", f"*/{BIG} * * * *", "minute step 99999999... (5000 digits) is out of range"),
        ("routes", "example.com:²/*", "a port after the host must be a number from 1 to 65535, as in example.com:8080"),
        (
            "routes",
            "example.com:99999/*",
            "a port after the host must be a number from 1 to 65535, as in example.com:8080",
        ),
    ],
)
def test_a_cron_field_or_route_port_in_foreign_or_endless_digits_is_a_config_error(
    tmp_path: Path, key: str, value: str, problem: str
) -> None:
    from runtime.config import load_config
    from runtime.errors import ConfigError

    setting = f"triggers: {{crons: [{json.dumps(value)}]}}" if key == "crons" else f"routes: [{json.dumps(value)}]"
    kv_yaml = f"""
        workers:
          - name: w
            script: w.py
            {setting}
    """
    write_files(tmp_path, {"kv.yaml": kv_yaml, "w.py": "async def fetch(request, env, ctx): ...\n"})
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "kv.yaml")
    assert problem in str(refused.value)


def test_a_number_of_5000_digits_in_kv_yaml_is_a_config_error_naming_the_line(tmp_path: Path) -> None:
    from runtime.config import load_config
    from runtime.errors import ConfigError

    write_files(tmp_path, {"w.py": "async def fetch(request, env, ctx): ...\n"})
    (tmp_path / "kv.yaml").write_text(f"workers:\n  - name: w\n    script: w.py\n    vars: {{N: {BIG}}}\n")
    with pytest.raises(ConfigError) as refused:
        load_config(tmp_path / "kv.yaml")
    assert str(refused.value).endswith("kv.yaml:4: a number of 5000 characters is too long to read")


@pytest.mark.parametrize(
    ("length", "handler", "api"),
    [
        ("\xb2", (200, "1"), 200),  # not a number: the body is counted as it comes
        (BIG, (413, None), 413),  # more than any limit: refused unread
    ],
    ids=["superscript two", "5000 digits"],
)
@pytest.mark.anyio
async def test_a_content_length_in_foreign_or_endless_digits_is_no_500(
    tmp_path: Path, length: str, handler: tuple[int, str | None], api: int
) -> None:
    # uvicorn's parser refuses these before the app; served another way (in-process, as the pytest
    # plugin does), the host reads them itself.
    from runtime import create_app, load_config

    project = write_files(tmp_path, PROBE_PROJECT)
    app = create_app(load_config(project / "kv.yaml", environ={}), crons=False)
    async with app_client(app):
        status, body = await asgi_request(app, "POST", "/probe/length", {"content-length": length}, b"x")
        assert status == handler[0] and (handler[1] is None or body == handler[1].encode())
        namespace_id = app.workerhost.version.workers["probe"].namespaces["KV"].id
        status, body = await asgi_request(
            app, "PUT", f"{NAMESPACES}/{namespace_id}/values/k", {"content-length": length}, b"x"
        )
        assert status == api, body


async def asgi_request(app: Any, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One request straight into an ASGI app, headers byte for byte (latin-1), as no HTTP client sends them."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # no disconnect: the client waits for its answer
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


# --- log lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/probe/a%0A%5Berror%5D%20forged%0D", "GET /probe/a%0A[error] forged%0D 404"),
        ("/nowhere%0A%5Berror%5D%20forged%E2%80%A8", "GET /nowhere%0A[error] forged%E2%80%A8 404"),
        ("/__scheduled?cron=0+0+1+1+*%0A%5Berror%5D+forged", 'probe: scheduled "0 0 1 1 *%0A[error] forged" ran'),
    ],
)
def test_a_newline_in_a_path_or_cron_cannot_forge_a_log_line(server: DevServer, target: str, logged: str) -> None:
    # uvicorn decodes %0A in the path to a newline: written as it is, it would start a line of its own.
    send(server, "GET", target)
    eventually(lambda: logged in server.stderr(), what="the request on one line")
    assert not re.search(r"^\[error\] forged", server.stderr(), re.MULTILINE)


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
