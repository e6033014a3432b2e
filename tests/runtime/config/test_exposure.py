"""The one exposure rule: an open (token-less) REST API is served on loopback addresses only."""

from __future__ import annotations

import pytest

from runtime.config import ApiConfig
from runtime.config.exposure import check_exposure
from runtime.errors import StartupError


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_an_open_api_may_serve_loopback(host: str) -> None:
    check_exposure(host, ApiConfig())


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.com"])
def test_an_open_api_refuses_other_addresses(host: str) -> None:
    expected = f"refusing to listen on {host}: it is not a loopback address and no API tokens are configured"
    with pytest.raises(StartupError, match=expected):
        check_exposure(host, ApiConfig())


def test_an_api_with_tokens_may_serve_any_address() -> None:
    check_exposure("0.0.0.0", ApiConfig(read_tokens=frozenset({"r"})))


def test_the_message_names_the_variable_that_holds_the_tokens() -> None:
    with pytest.raises(StartupError, match="Set MY_TOKENS \\(comma-separated tokens\\) or listen on 127.0.0.1"):
        check_exposure("0.0.0.0", ApiConfig(tokens_env="MY_TOKENS"))
