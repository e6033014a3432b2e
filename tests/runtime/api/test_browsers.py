"""The browser policy on its own: which Origin, Sec-Fetch-Site and Host values pass (README "Dashboard")."""

from __future__ import annotations

import pytest

from runtime.api.browsers import BrowserPolicy, is_loopback_name

LOCAL = {"host": "127.0.0.1:8787"}


def refused(headers: dict[str, str], *, tokens: bool = False, page: bool = False, check_host: bool = True) -> bool:
    policy = BrowserPolicy(check_host=check_host, configured_host="127.0.0.1")
    return policy.refusal(headers, tokens=tokens, page=page) is not None


@pytest.mark.parametrize(
    "name",
    ["localhost", "LOCALHOST", "localhost.", "app.localhost", "127.0.0.1", "127.9.8.7", "::1", "[::1]"]
    + ["::ffff:127.0.0.1"],
)
def test_loopback_names_and_addresses(name: str) -> None:
    assert is_loopback_name(name)


@pytest.mark.parametrize(
    "name", ["evil.example", "localhost.evil.example", "10.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "", "127.0.0.1x"]
)
def test_other_names_are_not_loopback(name: str) -> None:
    assert not is_loopback_name(name)


def test_clients_that_are_not_browsers_pass() -> None:
    assert not refused(LOCAL)
    assert not refused({"host": "localhost:8787"})
    assert not refused({"host": "[::1]:8787"})
    assert not refused({})  # HTTP/1.0 without Host


def test_the_hosts_own_origin_passes() -> None:
    assert not refused({**LOCAL, "origin": "http://127.0.0.1:8787", "sec-fetch-site": "same-origin"})
    assert not refused({"host": "localhost:8787", "origin": "http://localhost:8787"})
    assert not refused({"host": "[::1]:8787", "origin": "http://[::1]:8787"})


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://127.0.0.1:3000",  # another port: another origin
        "http://localhost:8787",  # another name for the same socket is another origin
        "null",  # a sandboxed frame or a file
        "http://127.0.0.1:8787/path",  # not an origin
        "ftp://127.0.0.1:8787",
        "garbage",
        "http://[::1",
    ],
)
def test_another_origin_is_refused(origin: str) -> None:
    assert refused({**LOCAL, "origin": origin})
    assert refused({**LOCAL, "origin": origin}, tokens=True)


def test_an_origin_behind_a_tls_proxy_matches_its_host() -> None:
    assert not refused({"host": "kv.example", "origin": "https://kv.example"}, tokens=True)
    assert refused({"host": "kv.example", "origin": "https://kv.example:8443"}, tokens=True)


@pytest.mark.parametrize("site", ["cross-site", "same-site", "Cross-Site", "something-new"])
def test_requests_other_pages_make_without_origin_are_refused(site: str) -> None:
    # <img src="http://127.0.0.1:8787/__scheduled?cron=..."> on another site sends no Origin.
    assert refused({**LOCAL, "sec-fetch-site": site, "sec-fetch-mode": "no-cors"})
    assert refused({**LOCAL, "sec-fetch-site": site, "sec-fetch-mode": "navigate"})  # not the dashboard's page


def test_a_navigation_from_elsewhere_may_open_the_dashboard_page_only() -> None:
    navigation = {**LOCAL, "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}
    assert not refused(navigation, page=True)
    assert refused({**navigation, "sec-fetch-mode": "cors"}, page=True)
    assert not refused({**LOCAL, "sec-fetch-site": "none", "sec-fetch-mode": "navigate"})  # typed in the address bar


@pytest.mark.parametrize("host", ["evil.example:8787", "evil.example", "192.168.1.5:8787", "::1]", "a:b:c", ":8787"])
def test_without_tokens_host_must_be_loopback(host: str) -> None:
    assert refused({"host": host})
    assert refused({"host": host, "origin": f"http://{host}"})  # a rebound page is same-origin with itself


def test_with_tokens_any_host_passes_and_origin_still_counts() -> None:
    assert not refused({"host": "evil.example:8787"}, tokens=True)
    assert not refused({"host": "devbox.lan:8787", "origin": "http://devbox.lan:8787"}, tokens=True)
    assert refused({"host": "devbox.lan:8787", "origin": "http://evil.example"}, tokens=True)


def test_host_is_not_checked_in_process() -> None:
    assert not refused({"host": "testserver"}, check_host=False)
    assert refused({"host": "testserver", "origin": "http://evil.example"}, check_host=False)


def test_the_configured_host_passes() -> None:
    policy = BrowserPolicy(check_host=True, configured_host="devbox.localdomain")
    assert policy.refusal({"host": "devbox.localdomain:8787"}, tokens=False) is None
    assert policy.refusal({"host": "other.localdomain:8787"}, tokens=False) is not None


def test_the_refusal_is_a_403_in_cloudflares_envelope_and_quotes_the_origin_shortly() -> None:
    policy = BrowserPolicy(check_host=True)
    error = policy.refusal({**LOCAL, "origin": "https://evil.example/" + "x" * 500}, tokens=False)
    assert error is not None
    assert (error.status, error.code) == (403, 10000)
    assert "evil.example" in error.message
    assert len(error.message) < 400
