"""Credentials, permissions, accounts and routing errors."""

from __future__ import annotations

import pytest

from .conftest import ACCOUNT_ID, READ_TOKEN, TOKENS, WRITE_TOKEN, LiveApi, assert_cf_error, result_of

BEARER_WRITE = {"Authorization": f"Bearer {WRITE_TOKEN}"}
BEARER_READ = {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture
def secured(api: LiveApi) -> LiveApi:
    api.use(TOKENS)
    return api


def test_without_tokens_configured_the_api_is_open(api: LiveApi) -> None:
    assert result_of(api.http.get(api.base)) == []


def test_a_missing_credential_is_401(secured: LiveApi) -> None:
    assert_cf_error(secured.http.get(secured.base), status=401, code=10000, message="Authentication error")


def test_an_unknown_bearer_token_is_401(secured: LiveApi) -> None:
    response = secured.http.get(secured.base, headers={"Authorization": "Bearer nope"})
    assert_cf_error(response, status=401, code=10000, message="Authentication error")


def test_a_write_token_reads_and_writes(secured: LiveApi) -> None:
    created = result_of(secured.http.post(secured.base, json={"title": "t"}, headers=BEARER_WRITE))
    url = secured.values(created["id"], "k")
    result_of(secured.http.put(url, content=b"v", headers=BEARER_WRITE))
    assert secured.http.get(url, headers=BEARER_WRITE).content == b"v"


def test_a_read_token_reads(secured: LiveApi, ns: str) -> None:
    secured.run(secured.binding(ns).put("k", "v"))
    assert secured.http.get(secured.values(ns, "k"), headers=BEARER_READ).content == b"v"
    assert result_of(secured.http.get(f"{secured.base}/{ns}/keys", headers=BEARER_READ)) == [{"name": "k"}]
    result_of(secured.http.post(f"{secured.base}/{ns}/bulk/get", json={"keys": ["k"]}, headers=BEARER_READ))


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PUT", "/values/k", None),
        ("DELETE", "/values/k", None),
        ("PUT", "/bulk", []),
        ("DELETE", "/bulk", []),
        ("POST", "/bulk/delete", []),
        ("PUT", "", {"title": "x"}),
        ("DELETE", "", None),
    ],
)
def test_a_read_token_gets_403_on_every_write(
    secured: LiveApi, ns: str, method: str, suffix: str, body: object
) -> None:
    response = secured.http.request(method, f"{secured.base}/{ns}{suffix}", json=body, headers=BEARER_READ)
    assert_cf_error(response, status=403, code=10000, message="Authentication error")
    assert secured.run(secured.store.get_namespace(ns)).title == "test"


def test_a_read_token_cannot_create_a_namespace(secured: LiveApi) -> None:
    response = secured.http.post(secured.base, json={"title": "x"}, headers=BEARER_READ)
    assert_cf_error(response, status=403, code=10000)


def test_email_and_key_credentials_are_checked_against_the_tokens(secured: LiveApi) -> None:
    ok = {"X-Auth-Email": "any@example.com", "X-Auth-Key": WRITE_TOKEN}
    assert result_of(secured.http.get(secured.base, headers=ok)) == []
    bad = {"X-Auth-Email": "any@example.com", "X-Auth-Key": "nope"}
    assert_cf_error(secured.http.get(secured.base, headers=bad), status=401, code=10000)


def test_email_and_key_win_over_a_bearer_token(secured: LiveApi) -> None:
    headers = {"X-Auth-Email": "a@b.c", "X-Auth-Key": READ_TOKEN, **BEARER_WRITE}
    assert_cf_error(secured.http.post(secured.base, json={"title": "x"}, headers=headers), status=403, code=10000)


def test_a_key_without_an_email_is_not_a_credential(secured: LiveApi) -> None:
    assert_cf_error(secured.http.get(secured.base, headers={"X-Auth-Key": WRITE_TOKEN}), status=401, code=10000)


def test_the_sdk_authenticates_with_a_token(secured: LiveApi) -> None:
    created = secured.sdk(api_token=WRITE_TOKEN).kv.namespaces.create(title="t", account_id=ACCOUNT_ID)
    assert created is not None and created.title == "t"


def test_verify_reports_a_valid_token_active(secured: LiveApi) -> None:
    result = result_of(secured.http.get(f"{secured.root}/user/tokens/verify", headers=BEARER_READ))
    assert result["status"] == "active" and len(result["id"]) == 32
    other = result_of(secured.http.get(f"{secured.root}/user/tokens/verify", headers=BEARER_WRITE))
    assert other["id"] != result["id"]


def test_verify_refuses_an_unknown_token(secured: LiveApi) -> None:
    response = secured.http.get(f"{secured.root}/user/tokens/verify", headers={"Authorization": "Bearer nope"})
    assert_cf_error(response, status=401, code=1000, message="Invalid API Token")


def test_verify_without_tokens_configured_is_active(api: LiveApi) -> None:
    assert result_of(api.http.get(f"{api.root}/user/tokens/verify")) == {"id": "0" * 32, "status": "active"}


def test_accounts_and_memberships_name_the_configured_account(secured: LiveApi) -> None:
    accounts = result_of(secured.http.get(f"{secured.root}/accounts", headers=BEARER_READ))
    assert [account["id"] for account in accounts] == [ACCOUNT_ID]
    memberships = result_of(secured.http.get(f"{secured.root}/memberships", headers=BEARER_READ))
    assert [membership["account"]["id"] for membership in memberships] == [ACCOUNT_ID]
    assert_cf_error(secured.http.get(f"{secured.root}/accounts"), status=401, code=10000)


def test_a_wrong_account_id_is_cloudflares_routing_error(api: LiveApi) -> None:
    path = f"/accounts/{'9' * 32}/storage/kv/namespaces"
    response = api.http.get(f"{api.root}{path}")
    assert_cf_error(
        response,
        status=400,
        code=7003,
        message=f"Could not route to {path}, perhaps your object identifier is invalid?",
    )
    assert response.json()["errors"][1] == {"code": 7000, "message": "No route for that URI"}


def test_an_unknown_path_is_7000(api: LiveApi) -> None:
    assert_cf_error(api.http.get(f"{api.root}/zones"), status=404, code=7000, message="No route for that URI")


def test_an_unsupported_method_is_405(api: LiveApi) -> None:
    response = api.http.patch(api.base)
    assert_cf_error(response, status=405, code=7001, message="Method PATCH not available for that URI")


def test_a_405_lists_every_method_of_the_path(api: LiveApi) -> None:
    response = api.http.post(f"{api.base}/{'0' * 32}")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}
