"""Production-fidelity modes over the REST API: a key's write limit, and Cloudflare's per-user rate limit.

https://developers.cloudflare.com/kv/api/write-key-value-pairs/ and
https://developers.cloudflare.com/fundamentals/api/reference/limits/. Time is the test's ManualClock.
"""

from __future__ import annotations

import cloudflare
import pytest

from bindings import KVError, ManualClock
from bindings.fidelity import Fidelity, FidelityPlan, FidelitySettings
from runtime.api.ratelimit import API_BLOCK, API_LIMIT, API_WINDOW, ApiRateLimiter
from runtime.config import ApiConfig

from .conftest import OPEN, READ_TOKEN, TOKENS, WRITE_TOKEN, LiveApi, assert_cf_error, result_of

THROTTLED = "Please wait and consider throttling your request speed"


def _limited(api: LiveApi) -> None:
    api.use(OPEN, fidelity=Fidelity(api.clock, FidelityPlan(FidelitySettings(rate_limit=True))))


# --- rate_limit: a key's second -------------------------------------------------------------------


def test_a_second_put_of_a_key_within_a_second_is_a_429(api: LiveApi, ns: str) -> None:
    _limited(api)
    url = api.values(ns, "counter")
    assert api.http.put(url, content=b"1").status_code == 200
    refused = api.http.put(url, content=b"2")
    assert_cf_error(refused, status=429, code=10001, message="put: 'Too Many Requests'")
    assert api.http.get(url).content == b"1"
    api.clock.advance(1)
    assert api.http.put(url, content=b"2").status_code == 200


def test_the_rest_api_and_handlers_share_a_keys_second(api: LiveApi, ns: str) -> None:
    _limited(api)
    api.run(api.binding(ns).put("k", "from a handler"))
    assert api.http.put(api.values(ns, "k"), content=b"x").status_code == 429
    api.clock.advance(1)
    assert api.http.put(api.values(ns, "k"), content=b"x").status_code == 200
    with pytest.raises(KVError, match="^KV PUT failed: 429 Too Many Requests$"):
        api.run(api.binding(ns).put("k", "from a handler"))


def test_a_bulk_write_naming_a_key_written_within_the_second_stores_nothing(api: LiveApi, ns: str) -> None:
    _limited(api)
    assert api.http.put(api.values(ns, "b"), content=b"1").status_code == 200
    refused = api.http.put(f"{api.base}/{ns}/bulk", json=[{"key": "a", "value": "A"}, {"key": "b", "value": "B"}])
    assert_cf_error(refused, status=429, code=10001, message="bulk put keys: 'Too Many Requests'")
    assert api.http.get(api.values(ns, "a")).status_code == 404
    api.clock.advance(1)
    written = api.http.put(f"{api.base}/{ns}/bulk", json=[{"key": "a", "value": "A"}, {"key": "b", "value": "B"}])
    assert result_of(written) == {"successful_key_count": 2, "unsuccessful_keys": []}


def test_the_sdk_sees_a_rate_limit_error(api: LiveApi, ns: str) -> None:
    _limited(api)
    api.use(TOKENS, fidelity=api.fidelity)
    sdk = api.sdk()
    sdk.kv.namespaces.values.update("k", account_id=api.account_id, namespace_id=ns, value=b"1")
    with pytest.raises(cloudflare.RateLimitError):
        sdk.kv.namespaces.values.update("k", account_id=api.account_id, namespace_id=ns, value=b"2")


# --- api_rate_limit: 1,200 requests per 5 minutes per user -----------------------------------------


def test_the_limit_is_cloudflares_1200_requests_per_five_minutes_then_five_minutes_blocked() -> None:
    clock = ManualClock(1000)
    limiter = ApiRateLimiter(clock)
    assert (API_LIMIT, API_WINDOW, API_BLOCK) == (1200, 300.0, 300.0)
    for _ in range(API_LIMIT):
        clock.advance(0.1)
        assert limiter.admit(b"token") is None
    assert limiter.admit(b"token") == 300
    clock.advance(299.5)
    assert limiter.admit(b"token") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.admit(b"token") is None


def test_the_window_slides(api: LiveApi) -> None:
    clock = ManualClock(1000)
    limiter = ApiRateLimiter(clock, limit=3)
    for _ in range(3):
        assert limiter.admit(None) is None
        clock.advance(100)
    assert limiter.admit(None) is None  # the first request is 300 s old: out of the window
    assert limiter.admit(None) == 300


def test_over_the_limit_every_call_gets_cloudflares_429_for_five_minutes(api: LiveApi, ns: str) -> None:
    api.use(OPEN, rate_limiter=ApiRateLimiter(api.clock, limit=3))
    for _ in range(3):
        assert api.http.get(f"{api.base}/{ns}/keys").status_code == 200
    refused = api.http.put(api.values(ns, "k"), content=b"v")
    assert_cf_error(refused, status=429, code=971, message=THROTTLED)
    assert refused.headers["retry-after"] == "300"
    assert api.http.get(api.values(ns, "k")).status_code == 429  # nothing was written, reads are blocked too
    api.clock.advance(299.2)
    assert api.http.get(f"{api.base}/{ns}/keys").headers["retry-after"] == "1"  # rounded up
    api.clock.advance(0.8)
    assert api.http.get(api.values(ns, "k")).status_code == 404


def test_each_token_is_a_user_of_its_own(api: LiveApi, ns: str) -> None:
    api.use(TOKENS, rate_limiter=ApiRateLimiter(api.clock, limit=2))
    writer = {"authorization": f"Bearer {WRITE_TOKEN}"}
    reader = {"authorization": f"Bearer {READ_TOKEN}"}
    keys = f"{api.base}/{ns}/keys"
    assert [api.http.get(keys, headers=writer).status_code for _ in range(3)] == [200, 200, 429]
    assert [api.http.get(keys, headers=reader).status_code for _ in range(2)] == [200, 200]
    # Credentials that fail never reach the limit, and the public token check is not counted.
    assert api.http.get(keys, headers={"authorization": "Bearer wrong"}).status_code == 401
    assert api.http.get(f"{api.root}/user/tokens/verify", headers=writer).status_code == 200


def test_the_sdk_sees_the_rate_limit(api: LiveApi, ns: str) -> None:
    api.use(TOKENS, rate_limiter=ApiRateLimiter(api.clock, limit=1))
    sdk = api.sdk()
    sdk.kv.namespaces.keys.list(account_id=api.account_id, namespace_id=ns)
    with pytest.raises(cloudflare.RateLimitError) as caught:
        sdk.kv.namespaces.keys.list(account_id=api.account_id, namespace_id=ns)
    assert caught.value.body["errors"] == [{"code": 971, "message": THROTTLED}]  # type: ignore[index]


def test_the_limit_is_off_unless_asked_for(api: LiveApi, ns: str) -> None:
    limiter = ApiRateLimiter(api.clock, enabled=False, limit=1)
    api.use(ApiConfig(), rate_limiter=limiter)
    assert [api.http.get(f"{api.base}/{ns}/keys").status_code for _ in range(3)] == [200, 200, 200]
    limiter.enabled = True  # what a reload that turns it on does
    assert [api.http.get(f"{api.base}/{ns}/keys").status_code for _ in range(2)] == [200, 429]
