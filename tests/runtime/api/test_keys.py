"""The key listing endpoint over raw HTTP."""

from __future__ import annotations

import pytest

from .conftest import TIME_NOW, LiveApi, assert_cf_error, result_of


def fill(api: LiveApi, ns: str, keys: list[str]) -> None:
    result_of(api.http.put(f"{api.base}/{ns}/bulk", json=[{"key": key, "value": "v"} for key in keys]))


def test_list_returns_names_expirations_and_metadata(api: LiveApi, ns: str) -> None:
    pairs = [
        {"key": "a", "value": "v"},
        {"key": "b", "value": "v", "expiration_ttl": 100, "metadata": {"m": 1}},
    ]
    result_of(api.http.put(f"{api.base}/{ns}/bulk", json=pairs))
    response = api.http.get(f"{api.base}/{ns}/keys")
    assert result_of(response) == [{"name": "a"}, {"name": "b", "expiration": TIME_NOW + 100, "metadata": {"m": 1}}]
    assert response.json()["result_info"] == {"count": 2, "cursor": ""}


def test_list_pages_with_a_cursor_until_it_is_empty(api: LiveApi, ns: str) -> None:
    fill(api, ns, [f"k{index:02}" for index in range(25)])
    names, cursor, pages = [], None, 0
    while True:
        params = {"limit": "10", **({"cursor": cursor} if cursor else {})}
        response = api.http.get(f"{api.base}/{ns}/keys", params=params)
        names += [key["name"] for key in result_of(response)]
        cursor, pages = response.json()["result_info"]["cursor"], pages + 1
        if not cursor:
            break
    assert names == [f"k{index:02}" for index in range(25)] and pages == 3


def test_list_filters_by_prefix_in_utf8_byte_order(api: LiveApi, ns: str) -> None:
    fill(api, ns, ["p:\U0001f600", "p:\uffff", "p:a", "q"])
    names = [key["name"] for key in result_of(api.http.get(f"{api.base}/{ns}/keys", params={"prefix": "p:"}))]
    assert names == ["p:a", "p:\uffff", "p:\U0001f600"]


def test_list_hides_expired_keys(api: LiveApi, ns: str) -> None:
    result_of(api.http.put(f"{api.base}/{ns}/bulk", json=[{"key": "gone", "value": "v", "expiration_ttl": 60}]))
    api.clock.advance(61)
    assert result_of(api.http.get(f"{api.base}/{ns}/keys")) == []


@pytest.mark.parametrize("limit", ["9", "0", "1001", "ten"])
def test_list_with_a_limit_outside_10_to_1000_is_400(api: LiveApi, ns: str, limit: str) -> None:
    response = api.http.get(f"{api.base}/{ns}/keys", params={"limit": limit})
    message = f"list keys: 'Invalid limit of {limit}. Please specify an integer between 10 and 1000.'"
    assert_cf_error(response, status=400, code=10001, message=message)


def test_list_with_a_prefix_over_512_bytes_is_414(api: LiveApi, ns: str) -> None:
    response = api.http.get(f"{api.base}/{ns}/keys", params={"prefix": "p" * 513})
    message = "list keys: 'UTF-8 encoded length of 513 exceeds key length limit of 512.'"
    assert_cf_error(response, status=414, code=10001, message=message)


def test_list_with_a_malformed_cursor_is_400(api: LiveApi, ns: str) -> None:
    response = api.http.get(f"{api.base}/{ns}/keys", params={"cursor": "a"})
    assert_cf_error(response, status=400, code=10001, message="list keys: 'Invalid cursor'")


def test_list_in_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.get(f"{api.base}/{'c' * 32}/keys")
    assert_cf_error(response, status=404, code=10013, message="list keys: 'namespace not found'")
