"""Every Workers KV method of the official ``cloudflare`` SDK (CLIENTS.md), against the live server."""

from __future__ import annotations

import cloudflare
import pytest

from .conftest import ACCOUNT_ID, TIME_NOW, LiveApi

A = {"account_id": ACCOUNT_ID}


def test_sdk_creates_gets_renames_and_deletes_a_namespace(api: LiveApi) -> None:
    kv = api.sdk().kv.namespaces
    created = kv.create(title="my-ns", **A)
    assert created is not None and created.title == "my-ns" and len(created.id) == 32
    assert created.supports_url_encoding is True
    assert kv.get(created.id, **A).title == "my-ns"
    renamed = kv.update(created.id, title="renamed", **A)
    assert (renamed.id, renamed.title) == (created.id, "renamed")
    kv.delete(created.id, **A)
    with pytest.raises(cloudflare.NotFoundError) as caught:
        kv.get(created.id, **A)
    assert caught.value.status_code == 404


def test_sdk_lists_namespaces_across_pages_until_an_empty_page(api: LiveApi) -> None:
    for index in range(7):
        api.namespace(f"ns-{index}")
    pages = api.sdk().kv.namespaces.list(per_page=3, order="title", direction="desc", **A)
    assert [ns.title for ns in pages] == [f"ns-{index}" for index in reversed(range(7))]


def test_sdk_writes_a_value_with_metadata_and_ttl_and_reads_it_back(api: LiveApi, ns: str) -> None:
    values = api.sdk().kv.namespaces.values
    values.update("a/b c", value=b"\x00\xffbinary", metadata={"m": 1}, expiration_ttl=3600, namespace_id=ns, **A)
    response = values.get("a/b c", namespace_id=ns, **A)
    assert response.read() == b"\x00\xffbinary"
    assert response.headers["expiration"] == str(TIME_NOW + 3600)
    assert api.sdk().kv.namespaces.metadata.get("a/b c", namespace_id=ns, **A) == {"m": 1}


def test_sdk_writes_a_string_value_without_metadata(api: LiveApi, ns: str) -> None:
    values = api.sdk().kv.namespaces.values
    values.update("plain", value="héllo".encode(), namespace_id=ns, **A)
    assert values.get("plain", namespace_id=ns, **A).text() == "héllo"
    assert api.sdk().kv.namespaces.metadata.get("plain", namespace_id=ns, **A) is None


def test_sdk_deletes_a_value(api: LiveApi, ns: str) -> None:
    values = api.sdk().kv.namespaces.values
    values.update("gone", value=b"x", namespace_id=ns, **A)
    values.delete("gone", namespace_id=ns, **A)
    with pytest.raises(cloudflare.NotFoundError) as caught:
        values.get("gone", namespace_id=ns, **A)
    assert caught.value.body == {
        "success": False,
        "errors": [{"code": 10009, "message": "get: 'key not found'"}],
        "messages": [],
        "result": None,
    }


def test_sdk_lists_keys_with_prefix_limit_and_cursor(api: LiveApi, ns: str) -> None:
    kv = api.sdk().kv.namespaces
    kv.bulk_update(
        ns, body=[{"key": f"fo{index:02}", "value": "v"} for index in range(25)] + [{"key": "x", "value": "v"}], **A
    )
    first = kv.keys.list(ns, prefix="fo", limit=10, **A)
    assert [key.name for key in first.result] == [f"fo{index:02}" for index in range(10)]
    assert first.result_info is not None and first.result_info.cursor
    assert [key.name for key in kv.keys.list(ns, prefix="fo", limit=10, **A)] == [f"fo{i:02}" for i in range(25)]


def test_sdk_bulk_update_writes_every_pair(api: LiveApi, ns: str) -> None:
    kv = api.sdk().kv.namespaces
    result = kv.bulk_update(
        ns,
        body=[
            {"key": "a", "value": "1", "metadata": {"n": 1}},
            {"key": "b", "value": "aGVsbG8=", "base64": True, "expiration_ttl": 120},
        ],
        **A,
    )
    assert result is not None and result.successful_key_count == 2 and result.unsuccessful_keys == []
    assert kv.values.get("b", namespace_id=ns, **A).read() == b"hello"
    keys = {key.name: key for key in kv.keys.list(ns, **A)}
    assert keys["a"].metadata == {"n": 1} and keys["b"].expiration == TIME_NOW + 120


def test_sdk_bulk_get_reads_json_values_with_metadata(api: LiveApi, ns: str) -> None:
    kv = api.sdk().kv.namespaces
    kv.bulk_update(ns, body=[{"key": "j", "value": '{"x": [1, 2]}', "metadata": {"m": True}}], **A)
    result = kv.bulk_get(ns, keys=["j", "missing"], type="json", with_metadata=True, **A)
    assert result is not None
    assert result.to_dict() == {"values": {"j": {"value": {"x": [1, 2]}, "metadata": {"m": True}}, "missing": None}}
    plain = kv.bulk_get(ns, keys=["j"], **A)
    assert plain is not None and plain.to_dict() == {"values": {"j": '{"x": [1, 2]}'}}


def test_sdk_bulk_delete_deletes_every_key(api: LiveApi, ns: str) -> None:
    kv = api.sdk().kv.namespaces
    kv.bulk_update(
        ns, body=[{"key": "k1", "value": "v"}, {"key": "k2", "value": "v"}, {"key": "k3", "value": "v"}], **A
    )
    result = kv.bulk_delete(ns, body=["k1", "k2"], **A)
    assert result is not None and result.successful_key_count == 2
    assert [key.name for key in kv.keys.list(ns, **A)] == ["k3"]


def test_sdk_with_email_and_key_credentials(api: LiveApi, ns: str) -> None:
    client = api.sdk(api_email="dev@example.com", api_key="anything")
    client.kv.namespaces.values.update("k", value=b"v", namespace_id=ns, **A)
    assert client.kv.namespaces.values.get("k", namespace_id=ns, **A).read() == b"v"
