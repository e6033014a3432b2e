"""Bulk endpoints over raw HTTP: write, delete (both routes), get; their limits and errors."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest

from bindings.limits import MAX_BULK_WRITE_BYTES, MAX_BULK_WRITE_PAIRS

from .conftest import TIME_NOW, LiveApi, assert_cf_error, result_of
from .rawhttp import send, send_endless


def keys_in(api: LiveApi, ns: str) -> list[str]:
    return [key["name"] for key in result_of(api.http.get(f"{api.base}/{ns}/keys"))]


def bulk(api: LiveApi, ns: str, suffix: str = "") -> str:
    return f"{api.base}/{ns}/bulk{suffix}"


# --- write ---------------------------------------------------------------------------------------


def test_bulk_write_stores_every_pair_with_its_options(api: LiveApi, ns: str) -> None:
    binary = bytes(range(256))
    pairs = [
        {"key": "text", "value": "héllo"},
        {"key": "bin", "value": base64.b64encode(binary).decode(), "base64": True},
        {"key": "ttl", "value": "v", "expiration_ttl": 120, "metadata": {"m": [1]}},
        {"key": "abs", "value": "v", "expiration": TIME_NOW + 600.0},
    ]
    assert result_of(api.http.put(bulk(api, ns), json=pairs)) == {"successful_key_count": 4, "unsuccessful_keys": []}
    assert api.http.get(api.values(ns, "text")).content == "héllo".encode()
    assert api.http.get(api.values(ns, "bin")).content == binary
    assert api.http.get(api.values(ns, "ttl")).headers["expiration"] == str(TIME_NOW + 120)
    assert api.http.get(api.values(ns, "abs")).headers["expiration"] == str(TIME_NOW + 600)
    assert result_of(api.http.get(f"{api.base}/{ns}/metadata/ttl")) == {"m": [1]}


def test_bulk_write_of_a_repeated_key_keeps_the_last(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(bulk(api, ns), json=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]))
    assert api.http.get(api.values(ns, "k")).content == b"2"


def test_bulk_write_with_an_invalid_pair_stores_nothing(api: LiveApi, ns: str) -> None:
    pairs = [{"key": "ok", "value": "v"}, {"key": "bad", "value": "v", "expiration_ttl": 30}]
    response = api.http.put(bulk(api, ns), json=pairs)
    message = "bulk put keys: 'Invalid expiration_ttl of 30. Expiration TTL must be at least 60.'"
    assert_cf_error(response, status=400, code=10001, message=message)
    assert response.json()["errors"][0]["source"] == {"pointer": "/1"}
    assert keys_in(api, ns) == []


def test_bulk_write_with_a_key_over_512_bytes_is_414(api: LiveApi, ns: str) -> None:
    response = api.http.put(bulk(api, ns), json=[{"key": "k" * 513, "value": "v"}])
    message = "bulk put keys: 'UTF-8 encoded length of 513 exceeds key length limit of 512.'"
    assert_cf_error(response, status=414, code=10001, message=message)


def test_bulk_write_with_metadata_over_1024_bytes_is_413(api: LiveApi, ns: str) -> None:
    response = api.http.put(bulk(api, ns), json=[{"key": "k", "value": "v", "metadata": "x" * 1023}])
    message = "bulk put keys: 'Metadata length of 1025 exceeds limit of 1024.'"
    assert_cf_error(response, status=413, code=10001, message=message)


def test_bulk_write_with_a_past_expiration_is_10033(api: LiveApi, ns: str) -> None:
    response = api.http.put(bulk(api, ns), json=[{"key": "k", "value": "v", "expiration": 5}])
    assert_cf_error(response, status=400, code=10033)


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("k", 'each item must be an object with "key" and "value"'),
        ({"value": "v"}, '"key" must be a string'),
        ({"key": "k"}, '"value" must be a string'),
        ({"key": "k", "value": 5}, '"value" must be a string'),
        ({"key": "k", "value": "v", "base64": "yes"}, '"base64" must be a boolean'),
        ({"key": "k", "value": "!!", "base64": True}, '"value" is not valid base64 (and "base64" is true)'),
        ({"key": "k", "value": "v", "expiration_ttl": "60"}, '"expiration_ttl" must be a number'),
        (
            {"key": "k", "value": "v", "expiration": 2**40},
            '"expiration": Value out of range. Must be between -2147483648 and 2147483647 (inclusive).',
        ),
    ],
    ids=repr,
)
def test_bulk_write_with_a_malformed_item_names_its_index(api: LiveApi, ns: str, item: object, problem: str) -> None:
    response = api.http.put(bulk(api, ns), json=[{"key": "fine", "value": "v"}, item])
    assert_cf_error(response, status=400, code=10001, message=f"bulk put keys: 'Invalid item at index 1: {problem}'")
    assert keys_in(api, ns) == []


def test_bulk_write_of_something_other_than_an_array_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(bulk(api, ns), json={"key": "k", "value": "v"})
    message = "bulk put keys: 'The request body must be a JSON array of key-value pairs'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_bulk_write_of_json_nested_100000_deep_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.put(bulk(api, ns), content=b"[" * 100_000 + b"]" * 100_000)
    message = "bulk put keys: 'Malformed JSON in request body: nested too deeply'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_bulk_write_of_10000_pairs_is_accepted(api: LiveApi, ns: str) -> None:
    pairs = [{"key": f"k{index:05}", "value": "v"} for index in range(MAX_BULK_WRITE_PAIRS)]
    assert result_of(api.http.put(bulk(api, ns), json=pairs))["successful_key_count"] == MAX_BULK_WRITE_PAIRS


def test_bulk_write_of_10001_pairs_is_400(api: LiveApi, ns: str) -> None:
    pairs = [{"key": f"k{index:05}", "value": "v"} for index in range(MAX_BULK_WRITE_PAIRS + 1)]
    response = api.http.put(bulk(api, ns), json=pairs)
    message = "bulk put keys: 'You can send a maximum of 10000 key-value pairs per request'"
    assert_cf_error(response, status=400, code=10001, message=message)
    assert keys_in(api, ns) == []


def test_bulk_write_announced_over_100_mb_is_refused_before_its_body_is_read(api: LiveApi, ns: str) -> None:
    headers = {"Content-Length": str(MAX_BULK_WRITE_BYTES + 1), "Content-Type": "application/json"}
    status, body = send(api.server.port, "PUT", urlsplit(bulk(api, ns)).path, headers, b"[")
    assert status == 413
    limit = MAX_BULK_WRITE_BYTES
    message = f"bulk put keys: 'Request body of {limit + 1} bytes or more exceeds the limit of {limit} bytes.'"
    assert body["errors"] == [{"code": 10001, "message": message}]


def test_bulk_write_streaming_past_100_mb_is_refused_at_the_limit(api: LiveApi, ns: str) -> None:
    status, body, sent = send_endless(api.server.port, "PUT", urlsplit(bulk(api, ns)).path, {}, 160 * 1024 * 1024)
    assert status == 413 and body["errors"][0]["code"] == 10001
    assert MAX_BULK_WRITE_BYTES <= sent < MAX_BULK_WRITE_BYTES + 16 * 1024 * 1024
    assert keys_in(api, ns) == []


def test_bulk_write_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.put(bulk(api, "d" * 32), json=[])
    assert_cf_error(response, status=404, code=10013, message="bulk put keys: 'namespace not found'")


# --- delete --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix"), [("POST", "/delete"), ("DELETE", "")])
def test_bulk_delete_removes_keys_on_both_routes(api: LiveApi, ns: str, method: str, suffix: str) -> None:
    result_of(api.http.put(bulk(api, ns), json=[{"key": k, "value": "v"} for k in ("a", "b", "c")]))
    response = api.http.request(method, bulk(api, ns, suffix), json=["a", {"name": "b"}, "missing"])
    assert result_of(response) == {"successful_key_count": 3, "unsuccessful_keys": []}
    assert keys_in(api, ns) == ["c"]


def test_bulk_delete_with_an_invalid_key_deletes_nothing(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(bulk(api, ns), json=[{"key": "a", "value": "v"}]))
    response = api.http.post(bulk(api, ns, "/delete"), json=["a", ""])
    assert_cf_error(response, status=400, code=10001, message="bulk remove keys: 'Key names must not be empty'")
    assert keys_in(api, ns) == ["a"]


def test_bulk_delete_with_a_malformed_item_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.post(bulk(api, ns, "/delete"), json=["a", 5])
    problem = 'each item must be a key name (a string, or an object with a "name" string)'
    assert_cf_error(response, status=400, code=10001, message=f"bulk remove keys: 'Invalid item at index 1: {problem}'")


def test_bulk_delete_of_10001_keys_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.post(bulk(api, ns, "/delete"), json=[f"k{i}" for i in range(MAX_BULK_WRITE_PAIRS + 1)])
    message = "bulk remove keys: 'You can send a maximum of 10000 keys per request'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_bulk_delete_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.post(bulk(api, "d" * 32, "/delete"), json=["a"])
    assert_cf_error(response, status=404, code=10013, message="bulk remove keys: 'namespace not found'")


# --- get -----------------------------------------------------------------------------------------


def test_bulk_get_reads_text_values_and_null_for_missing(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(bulk(api, ns), json=[{"key": "a", "value": "1"}, {"key": "b", "value": '{"x":1}'}]))
    result = result_of(api.http.post(bulk(api, ns, "/get"), json={"keys": ["a", "b", "c"]}))
    assert result == {"values": {"a": "1", "b": '{"x":1}', "c": None}}


def test_bulk_get_with_metadata_reports_expiration(api: LiveApi, ns: str) -> None:
    pairs = [{"key": "a", "value": "[1]", "metadata": {"m": 1}, "expiration_ttl": 60}, {"key": "b", "value": "2"}]
    result_of(api.http.put(bulk(api, ns), json=pairs))
    body = {"keys": ["a", "b"], "type": "json", "withMetadata": True}
    result = result_of(api.http.post(bulk(api, ns, "/get"), json=body))
    assert result == {
        "values": {
            "a": {"value": [1], "metadata": {"m": 1}, "expiration": TIME_NOW + 60},
            "b": {"value": 2, "metadata": None},
        }
    }


def test_bulk_get_of_a_binary_value_is_10029(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("bin", b"\xff\xfe"))
    response = api.http.post(bulk(api, ns, "/get"), json={"keys": ["bin"]})
    message = "bulk get keys: 'At least one of the requested keys corresponds to a non-text value'"
    assert_cf_error(response, status=400, code=10029, message=message)


def test_bulk_get_of_a_value_that_is_not_json_is_400(api: LiveApi, ns: str) -> None:
    api.run(api.binding(ns).put("t", "not json"))
    response = api.http.post(bulk(api, ns, "/get"), json={"keys": ["t"], "type": "json"})
    message = "bulk get keys: 'At least one of the requested keys corresponds to a non-json value'"
    assert_cf_error(response, status=400, code=10001, message=message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"keys": []}, "You must request a minimum of 1 key"),
        ({"keys": [str(i) for i in range(101)]}, "You can request a maximum of 100 keys"),
        ({"keys": ["a"], "type": "arrayBuffer"}, '"arrayBuffer" is not a valid type. Use "json" or "text"'),
        ({"keys": ["a"], "withMetadata": "yes"}, '"withMetadata" must be a boolean'),
        ({"keys": "a"}, 'The request body must be an object with a "keys" array'),
        (["a"], 'The request body must be an object with a "keys" array'),
        ({"keys": [1]}, "Key names must be strings, got int"),
    ],
    ids=repr,
)
def test_bulk_get_with_a_bad_request_is_400(api: LiveApi, ns: str, body: object, message: str) -> None:
    response = api.http.post(bulk(api, ns, "/get"), content=json.dumps(body).encode())
    assert_cf_error(response, status=400, code=10001, message=f"bulk get keys: '{message}'")


def test_bulk_get_with_a_key_over_512_bytes_is_414(api: LiveApi, ns: str) -> None:
    response = api.http.post(bulk(api, ns, "/get"), json={"keys": ["k" * 513]})
    assert_cf_error(response, status=414, code=10001)


def test_bulk_get_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.post(bulk(api, "e" * 32, "/get"), json={"keys": ["a"]})
    assert_cf_error(response, status=404, code=10013, message="bulk get keys: 'namespace not found'")
