"""Namespace endpoints over raw HTTP: results, paging and every namespace error code."""

from __future__ import annotations

import asyncio

import pytest

from bindings.catalog import MAX_NAMESPACES

from .conftest import LiveApi, assert_cf_error, result_of


def test_create_returns_id_title_and_url_encoding_support(api: LiveApi) -> None:
    result = result_of(api.http.post(api.base, json={"title": "links"}))
    assert result == {"id": result["id"], "title": "links", "supports_url_encoding": True}
    assert api.run(api.store.get_namespace(result["id"])).title == "links"


def test_create_with_a_taken_title_is_10014(api: LiveApi) -> None:
    api.namespace("links")
    response = api.http.post(api.base, json={"title": "links"})
    assert_cf_error(
        response, status=400, code=10014, message="a namespace with this account ID and title already exists"
    )


@pytest.mark.parametrize("body", [{}, {"title": ""}, {"title": 5}, [], {"name": "x"}], ids=repr)
def test_create_without_a_title_is_10019(api: LiveApi, body: object) -> None:
    response = api.http.post(api.base, json=body)
    assert_cf_error(response, status=400, code=10019, message="request is missing a title definition")


def test_create_with_malformed_json_is_400(api: LiveApi) -> None:
    response = api.http.post(api.base, content=b"{title")
    assert_cf_error(response, status=400, code=10001)
    assert response.json()["errors"][0]["message"].startswith("create namespace: 'Malformed JSON in request body")


def test_create_with_a_title_over_512_characters_is_400(api: LiveApi) -> None:
    response = api.http.post(api.base, json={"title": "t" * 513})
    assert_cf_error(
        response, status=400, code=10001, message="create namespace: 'title must be at most 512 characters, got 513'"
    )


def test_create_past_the_namespace_limit_is_400(api: LiveApi) -> None:
    async def fill() -> None:
        # Concurrently, so the group-commit writer batches the catalog inserts.
        await asyncio.gather(*(api.store.create_namespace(f"ns{index}") for index in range(MAX_NAMESPACES)))

    api.run(fill())
    response = api.http.post(api.base, json={"title": "one-too-many"})
    assert_cf_error(
        response, status=400, code=10001, message="create namespace: 'an account may have at most 1000 namespaces'"
    )


def test_get_of_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.get(f"{api.base}/{'f' * 32}")
    assert_cf_error(response, status=404, code=10013, message="get namespace: 'namespace not found'")


def test_get_of_a_malformed_namespace_id_is_10013(api: LiveApi) -> None:
    assert_cf_error(api.http.get(f"{api.base}/not-an-id"), status=404, code=10013)


def test_rename_changes_the_title(api: LiveApi, ns: str) -> None:
    result = result_of(api.http.put(f"{api.base}/{ns}", json={"title": "new"}))
    assert result == {"id": ns, "title": "new", "supports_url_encoding": True}
    assert api.run(api.store.get_namespace(ns)).title == "new"


def test_rename_to_a_taken_title_is_10014(api: LiveApi, ns: str) -> None:
    api.namespace("taken")
    assert_cf_error(api.http.put(f"{api.base}/{ns}", json={"title": "taken"}), status=400, code=10014)


def test_rename_without_a_title_is_10019(api: LiveApi, ns: str) -> None:
    assert_cf_error(api.http.put(f"{api.base}/{ns}", json={}), status=400, code=10019)


def test_rename_of_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.put(f"{api.base}/{'a' * 32}", json={"title": "x"})
    assert_cf_error(response, status=404, code=10013, message="rename namespace: 'namespace not found'")


def test_delete_removes_the_namespace_and_its_keys(api: LiveApi, ns: str) -> None:
    api.http.put(api.values(ns, "k"), content=b"v")
    assert result_of(api.http.delete(f"{api.base}/{ns}")) == {}
    assert api.run(api.store.get_namespace(ns)) is None
    assert_cf_error(api.http.get(api.values(ns, "k")), status=404, code=10013, message="get: 'namespace not found'")


def test_delete_of_a_missing_namespace_is_10013(api: LiveApi) -> None:
    response = api.http.delete(f"{api.base}/{'b' * 32}")
    assert_cf_error(response, status=404, code=10013, message="remove namespace: 'namespace not found'")


def test_list_pages_with_result_info(api: LiveApi) -> None:
    ids = sorted(api.namespace(f"t{index}") for index in range(5))
    response = api.http.get(api.base, params={"page": 2, "per_page": 2})
    assert [ns["id"] for ns in result_of(response)] == ids[2:4]
    assert response.json()["result_info"] == {"page": 2, "per_page": 2, "count": 2, "total_count": 5, "total_pages": 3}


def test_list_past_the_last_page_is_empty(api: LiveApi) -> None:
    api.namespace("only")
    response = api.http.get(api.base, params={"page": 3, "per_page": 1})
    assert result_of(response) == []
    assert response.json()["result_info"]["count"] == 0


def test_list_orders_by_title_descending(api: LiveApi) -> None:
    for title in ("b", "c", "a"):
        api.namespace(title)
    result = result_of(api.http.get(api.base, params={"order": "title", "direction": "desc", "per_page": 1000}))
    assert [ns["title"] for ns in result] == ["c", "b", "a"]


def test_list_defaults_to_20_per_page(api: LiveApi) -> None:
    for index in range(21):
        api.namespace(f"n{index:02}")
    assert len(result_of(api.http.get(api.base))) == 20


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"per_page": "1001"}, "Invalid per_page of 1001. Please specify an integer between 1 and 1000."),
        ({"per_page": "0"}, "Invalid per_page of 0. Please specify an integer between 1 and 1000."),
        ({"page": "0"}, "Invalid page of 0. Please specify an integer between 1 and 2147483647."),
        ({"page": "x"}, "Invalid page of x. Please specify an integer between 1 and 2147483647."),
        ({"order": "name"}, 'Invalid order of "name". Please specify one of "id", "title".'),
        ({"direction": "up"}, 'Invalid direction of "up". Please specify one of "asc", "desc".'),
    ],
)
def test_list_with_bad_paging_parameters_is_400(api: LiveApi, params: dict[str, str], message: str) -> None:
    response = api.http.get(api.base, params=params)
    assert_cf_error(response, status=400, code=10001, message=f"list namespaces: '{message}'")
