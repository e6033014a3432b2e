"""Single-key endpoints over raw HTTP: bodies, keys in paths, expiry, metadata, limits and errors."""

from __future__ import annotations

import json
from urllib.parse import quote, urlsplit

import pytest

from bindings.limits import MAX_VALUE_BYTES

from .conftest import TIME_NOW, LiveApi, assert_cf_error, result_of
from .rawhttp import send, send_endless

SPECIAL_KEYS = [
    "a/b",
    "what?x=1",
    "hash#tag",
    "100%",
    "with space",
    "café",
    "emoji 😀",
    "a//b/",
    " lead",
    "line\nbreak",
]


def path_of(url: str) -> str:
    return urlsplit(url).path


def stored(api: LiveApi, ns: str, key: str) -> bytes | None:
    entry = api.run(api.binding(ns).get(key, type="bytes"))
    return None if entry is None else bytes(entry)


# --- reads ---------------------------------------------------------------------------------------


def test_get_returns_raw_bytes_without_an_envelope(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("k", b"\x00\x01\xff"))
    response = api.http.get(api.values(ns, "k"))
    assert response.status_code == 200
    assert response.content == b"\x00\x01\xff"
    assert response.headers["content-type"] == "application/octet-stream"
    assert "expiration" not in response.headers


def test_get_sends_the_expiration_header_of_an_expiring_key(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("k", "v", expiration_ttl=300))
    assert api.http.get(api.values(ns, "k")).headers["expiration"] == str(TIME_NOW + 300)


def test_get_streams_a_large_value(api: LiveApi, ns: str) -> None:
    value = bytes(range(256)) * 8192  # 2 MiB
    api.run(api.binding(ns).put("big", value))
    response = api.http.get(api.values(ns, "big"))
    assert response.content == value
    assert response.headers["content-length"] == str(len(value))


def test_get_of_a_missing_key_is_10009(api: LiveApi, ns: str) -> None:
    assert_cf_error(api.http.get(api.values(ns, "nope")), status=404, code=10009, message="get: 'key not found'")


def test_get_of_an_expired_key_is_10009(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(api.values(ns, "k"), params={"expiration_ttl": "60"}, content=b"v"))
    api.clock.advance(59)
    assert api.http.get(api.values(ns, "k")).content == b"v"
    api.clock.advance(1)
    assert_cf_error(api.http.get(api.values(ns, "k")), status=404, code=10009)


def test_get_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.get(api.values("0" * 32, "k"))
    assert_cf_error(response, status=404, code=10013, message="get: 'namespace not found'")


def test_metadata_returns_the_metadata_or_null(api: LiveApi, ns: str) -> None:
    binding = api.binding(ns)
    api.run(binding.put("with", "v", metadata={"a": [1, "x"]}))
    api.run(binding.put("without", "v"))
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/with")) == {"a": [1, "x"]}
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/without")) is None


def test_metadata_of_a_missing_key_is_10009(api: LiveApi, ns: str) -> None:
    response = api.http.get(f"{api.base}/{ns}/metadata/nope")
    assert_cf_error(response, status=404, code=10009, message="metadata: 'key not found'")


# --- keys in the path ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", SPECIAL_KEYS)
def test_percent_encoded_keys_round_trip(api: LiveApi, ns: str, key: str) -> None:
    url = api.values(ns, quote(key, safe=""))
    result_of(api.http.put(url, content=key.encode()))
    assert api.http.get(url).content == key.encode()
    assert stored(api, ns, key) == key.encode()
    assert [k["name"] for k in result_of(api.http.get(f"{api.base}/{ns}/keys"))] == [key]
    result_of(api.http.delete(url))
    assert stored(api, ns, key) is None


def test_a_key_that_is_not_utf8_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.get(api.values(ns, "%FF"))
    assert_cf_error(response, status=400, code=10001, message="get: 'Could not URL-decode key name'")


@pytest.mark.parametrize("key", [".", ".."])
def test_dot_keys_are_400(api: LiveApi, ns: str, key: str) -> None:
    response = api.http.put(api.values(ns, key.replace(".", "%2E")), content=b"v")
    assert_cf_error(
        response, status=400, code=10001, message=f"put: 'Illegal key name \"{key}\". Please use a different name.'"
    )


def test_an_empty_key_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, ""), content=b"v")
    assert_cf_error(response, status=400, code=10001, message="put: 'Key names must not be empty'")


def test_a_key_over_512_bytes_is_414(api: LiveApi, ns: str) -> None:
    assert result_of(api.http.put(api.values(ns, "é" * 256), content=b"v")) == {}
    response = api.http.put(api.values(ns, "a" + "é" * 256), content=b"v")
    message = "put: 'UTF-8 encoded length of 513 exceeds key length limit of 512.'"
    assert_cf_error(response, status=414, code=10001, message=message)


# --- writes --------------------------------------------------------------------------------------


def test_put_stores_a_raw_body_byte_for_byte(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"\xff\x00raw", headers={"content-type": "text/plain"})
    assert result_of(response) == {}
    assert stored(api, ns, "k") == b"\xff\x00raw"


def test_put_stores_an_empty_value(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(api.values(ns, "k"), content=b""))
    assert stored(api, ns, "k") == b""


def test_put_stores_the_old_sdk_json_body_verbatim(api: LiveApi, ns: str) -> None:
    # SDK 4.1–4.3 sent {"value", "metadata"} as JSON; production stored the whole body (cloudflare-python#2519).
    body = b'{"value": "v", "metadata": {"a": 1}}'
    result_of(api.http.put(api.values(ns, "k"), content=body, headers={"content-type": "application/json"}))
    assert stored(api, ns, "k") == body
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/k")) is None


def test_put_multipart_stores_value_and_metadata(api: LiveApi, ns: str) -> None:
    files = {"value": ("upload", b"\x00bytes", "application/octet-stream"), "metadata": (None, '{"m": 1}')}
    result_of(api.http.put(api.values(ns, "k"), files=files, params={"expiration_ttl": "3600"}))
    assert stored(api, ns, "k") == b"\x00bytes"
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/k")) == {"m": 1}
    assert api.http.get(api.values(ns, "k")).headers["expiration"] == str(TIME_NOW + 3600)


def test_put_multipart_with_a_string_value(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(api.values(ns, "k"), files={"value": (None, "text value")}))
    assert stored(api, ns, "k") == b"text value"


def test_put_replaces_value_metadata_and_expiration(api: LiveApi, ns: str) -> None:
    api.http.put(
        api.values(ns, "k"), files={"value": (None, "1"), "metadata": (None, "1")}, params={"expiration_ttl": 90}
    )
    result_of(api.http.put(api.values(ns, "k"), content=b"2"))
    response = api.http.get(api.values(ns, "k"))
    assert response.content == b"2" and "expiration" not in response.headers
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/k")) is None


def test_put_with_both_expirations_takes_the_ttl(api: LiveApi, ns: str) -> None:
    params = {"expiration": "5", "expiration_ttl": "120"}
    result_of(api.http.put(api.values(ns, "k"), content=b"v", params=params))
    assert api.http.get(api.values(ns, "k")).headers["expiration"] == str(TIME_NOW + 120)


def test_put_with_an_absolute_expiration(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(api.values(ns, "k"), content=b"v", params={"expiration": str(TIME_NOW + 60)}))
    assert api.http.get(api.values(ns, "k")).headers["expiration"] == str(TIME_NOW + 60)


def test_put_with_a_ttl_under_60_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"v", params={"expiration_ttl": "30"})
    message = "put: 'Invalid expiration_ttl of 30. Expiration TTL must be at least 60.'"
    assert_cf_error(response, status=400, code=10001, message=message)
    assert stored(api, ns, "k") is None


def test_put_with_a_ttl_that_is_not_a_number_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"v", params={"expiration_ttl": "abc"})
    message = "put: 'Invalid expiration_ttl of abc. Please specify integer greater than 0.'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_put_with_a_past_expiration_is_10033(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"v", params={"expiration": str(TIME_NOW)})
    message = (
        f"put: 'Invalid expiration of {TIME_NOW}. Please specify integer greater than the current number of "
        "seconds since the UNIX epoch.'"
    )
    assert_cf_error(response, status=400, code=10033, message=message)


def test_put_with_an_expiration_under_60_seconds_away_is_10033(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"v", params={"expiration": str(TIME_NOW + 59)})
    message = (
        f"put: 'Invalid expiration of {TIME_NOW + 59}. Expiration times must be at least 60 seconds in the future.'"
    )
    assert_cf_error(response, status=400, code=10033, message=message)


def test_put_with_an_expiration_beyond_int32_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), content=b"v", params={"expiration_ttl": "1" + "0" * 20})
    message = "put: 'Value out of range. Must be between -2147483648 and 2147483647 (inclusive).'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_put_with_metadata_that_is_not_json_is_10147(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), files={"value": (None, "v"), "metadata": (None, "{nope")})
    assert_cf_error(response, status=400, code=10147, message="metadata must be valid json")
    assert stored(api, ns, "k") is None


def test_put_with_metadata_over_1024_bytes_is_413(api: LiveApi, ns: str) -> None:
    metadata = json.dumps("x" * 1023)  # 1025 bytes with its quotes
    response = api.http.put(api.values(ns, "k"), files={"value": (None, "v"), "metadata": (None, metadata)})
    assert_cf_error(response, status=413, code=10001, message="put: 'Metadata length of 1025 exceeds limit of 1024.'")


def test_put_with_metadata_that_is_not_utf8_is_10147_and_stores_nothing(api: LiveApi, ns: str) -> None:
    files = {"value": (None, "v"), "metadata": (None, b'{"a": "\xff"}', "application/json")}
    response = api.http.put(api.values(ns, "k"), files=files)
    assert_cf_error(response, status=400, code=10147, message="metadata must be valid json")
    assert stored(api, ns, "k") is None


def test_put_with_metadata_over_1024_bytes_that_are_not_utf8_is_413(api: LiveApi, ns: str) -> None:
    files = {"value": (None, "v"), "metadata": (None, b'"' + b"\xff" * 1023 + b'"', "application/json")}
    response = api.http.put(api.values(ns, "k"), files=files)
    assert_cf_error(response, status=413, code=10001, message="put: 'Metadata length of 1025 exceeds limit of 1024.'")


def test_put_with_metadata_holding_a_lone_surrogate_keeps_it_escaped(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), files={"value": (None, "v"), "metadata": (None, '"\\ud800"')})
    assert response.status_code == 200, response.text
    metadata = api.http.get(f"{api.base}/{ns}/metadata/k")
    assert metadata.status_code == 200 and metadata.json()["result"] == "\ud800"


def test_put_multipart_without_a_value_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(api.values(ns, "k"), files={"metadata": (None, "{}")})
    assert_cf_error(response, status=400, code=10001, message="put: 'Missing value field'")


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", b"--x\r\n", "the Content-Type header has no boundary"),
        ("multipart/form-data; boundary=x", b"nothing here", "the boundary never occurs"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="value"\r\n\r\nv',
            "the closing boundary is missing",
        ),
        ("multipart/form-data; boundary=x", b"--x\r\nno-colon\r\n\r\nv\r\n--x--", "bad part header line 'no-colon'"),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Type: a/b\r\n\r\nv\r\n--x--",
            "a part has no Content-Disposition: form-data name",
        ),
        ("multipart/form-data; boundary=x", b"--xjunk", "a boundary is not followed by CRLF"),
    ],
)
def test_put_with_malformed_multipart_is_400(
    api: LiveApi, ns: str, content_type: str, body: bytes, reason: str
) -> None:
    response = api.http.put(api.values(ns, "k"), content=body, headers={"content-type": content_type})
    assert_cf_error(response, status=400, code=10001, message=f"put: 'Malformed multipart/form-data body: {reason}'")


def test_put_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.put(api.values("1" * 32, "k"), content=b"v")
    assert_cf_error(response, status=404, code=10013, message="put: 'namespace not found'")


def test_delete_removes_the_key_and_a_missing_key_is_fine(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("k", "v"))
    assert result_of(api.http.delete(api.values(ns, "k"))) == {}
    assert stored(api, ns, "k") is None
    assert result_of(api.http.delete(api.values(ns, "k"))) == {}


def test_delete_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.delete(api.values("1" * 32, "k"))
    assert_cf_error(response, status=404, code=10013, message="remove key: 'namespace not found'")


# --- the binding and the API share the store -----------------------------------------------------


def test_a_rest_write_is_seen_by_the_binding_at_once(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(api.values(ns, "k"), files={"value": (None, "rest"), "metadata": (None, '{"by": "rest"}')}))
    found = api.run(api.binding(ns).get_with_metadata("k"))
    assert (found.value, found.metadata) == ("rest", {"by": "rest"})


def test_a_binding_write_is_seen_by_the_api_at_once(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("k", "binding", metadata={"by": "binding"}))
    assert api.http.get(api.values(ns, "k")).content == b"binding"
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/k")) == {"by": "binding"}


@pytest.mark.sqlite_only  # a page cap; a full Redis is tested in tests/bindings/storage/redis
def test_a_full_store_is_507_and_logged(api: LiveApi, ns: str, caplog: pytest.LogCaptureFixture) -> None:
    result_of(api.http.put(api.values(ns, "before"), content=b"kept"))
    api.run(api.store.set_max_pages(1))
    response = api.http.put(api.values(ns, "big"), content=b"x" * 1_000_000)
    full = "the store is full; the write was not applied (database or disk is full)"
    assert_cf_error(response, status=507, code=10002, message=full)
    assert api.http.get(api.values(ns, "before")).content == b"kept"
    (record,) = [r for r in caplog.records if r.name == "workerhost.api"]
    assert record.getMessage() == f"PUT /accounts/{api.account_id}/storage/kv/namespaces/{ns}/values/big failed"
    assert "StorageFullError" in caplog.text
    api.run(api.store.set_max_pages(None))
    result_of(api.http.put(api.values(ns, "big"), content=b"x" * 1_000_000))


# --- value size limits ---------------------------------------------------------------------------


def test_a_value_of_exactly_25_mib_is_stored(api: LiveApi, ns: str) -> None:
    value = b"v" * MAX_VALUE_BYTES
    result_of(api.http.put(api.values(ns, "max"), content=value))
    assert api.http.get(api.values(ns, "max")).content == value


def test_an_announced_oversized_value_is_refused_before_its_body_is_read(api: LiveApi, ns: str) -> None:
    # 10 GiB announced, 5 bytes sent: the answer can only come from the header.
    headers = {"Content-Length": "10737418240", "Content-Type": "application/octet-stream"}
    status, body = send(api.server.port, "PUT", path_of(api.values(ns, "k")), headers, b"start")
    assert status == 413
    assert body["errors"] == [
        {"code": 10001, "message": "put: 'Value length of 10737418240 exceeds limit of 26214400.'"}
    ]
    assert stored(api, ns, "k") is None


def test_an_endless_value_is_refused_at_the_limit(api: LiveApi, ns: str) -> None:
    status, body, sent = send_endless(api.server.port, "PUT", path_of(api.values(ns, "k")), {}, 64 * 1024 * 1024)
    assert status == 413
    assert body["errors"][0]["message"].startswith("put: 'Value length of ")
    assert sent < 40 * 1024 * 1024
    assert stored(api, ns, "k") is None


def test_an_announced_oversized_form_is_refused_before_its_body_is_read(api: LiveApi, ns: str) -> None:
    headers = {"Content-Length": "10737418240", "Content-Type": "multipart/form-data; boundary=x"}
    status, body = send(api.server.port, "PUT", path_of(api.values(ns, "k")), headers, b"--x\r\n")
    assert status == 413
    assert body["errors"][0] == {
        "code": 10001,
        "message": "put: 'Value length of 10737418240 exceeds limit of 26214400.'",
    }


def test_an_endless_form_is_refused_at_the_limit(api: LiveApi, ns: str) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    status, body, sent = send_endless(api.server.port, "PUT", path_of(api.values(ns, "k")), headers, 64 * 1024 * 1024)
    assert status == 413 and body["errors"][0]["code"] == 10001
    assert sent < 40 * 1024 * 1024
    assert stored(api, ns, "k") is None


def test_a_multipart_value_over_25_mib_is_413(api: LiveApi, ns: str) -> None:
    files = {"value": ("upload", b"v" * (MAX_VALUE_BYTES + 1), "application/octet-stream")}
    response = api.http.put(api.values(ns, "k"), files=files)
    message = f"put: 'Value length of {MAX_VALUE_BYTES + 1} exceeds limit of {MAX_VALUE_BYTES}.'"
    assert_cf_error(response, status=413, code=10001, message=message)
