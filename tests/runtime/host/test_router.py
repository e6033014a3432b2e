from __future__ import annotations

import pytest

from runtime.config.routes import parse_route
from runtime.host.router import Router


def scope(host: str) -> dict[str, object]:
    return {"headers": [(b"host", host.encode())]}


@pytest.mark.parametrize(
    ("text", "host", "path", "prefix"),
    [
        ("/counter", None, "/counter", False),
        ("/counter/*", None, "/counter/", True),
        ("/*", None, "/", True),
        ("Example.com/api*", "example.com", "/api", True),
        ("https://example.com/x", "example.com", "/x", False),
        ("*/x", None, "/x", False),
    ],
)
def test_parse_route_reads_host_path_and_wildcard(text: str, host: str | None, path: str, prefix: bool) -> None:
    pattern = parse_route(text)
    assert (pattern.host, pattern.path, pattern.prefix) == (host, path, prefix)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a route must be a non-empty string"),
        ("counter", "a route needs a path starting with /"),
        ("/a*b", "* may only end the path, as in /api/*"),
        ("ex*ample.com/", "* may only start the host, as in *.example.com"),
        ("/x?y=1", "a route may not contain a query string or fragment"),
    ],
)
def test_parse_route_rejects_malformed_patterns(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*").replace("?", r"\?")):
        parse_route(text)


def test_exact_routes_beat_prefixes_and_longer_prefixes_beat_shorter() -> None:
    router = Router(
        [
            (parse_route(p), name)
            for p, name in [("/*", "all"), ("/api/*", "api"), ("/api/special", "special"), ("/api", "api-root")]
        ]
    )
    assert router.match("/api/special") == "special"
    assert router.match("/api/other") == "api"
    assert router.match("/api") == "api-root"
    assert router.match("/elsewhere") == "all"


def test_unmatched_paths_give_none() -> None:
    router = Router([(parse_route("/counter"), "c"), (parse_route("/counter/*"), "c")])
    assert router.match("/counterfeit") is None
    assert router.match("/counter/") == "c"


def test_host_routes_match_the_host_header_without_its_port() -> None:
    router = Router(
        [
            (parse_route("example.test/*"), "site"),
            (parse_route("*.example.test/*"), "sub"),
            (parse_route("/*"), "default"),
        ]
    )
    assert router.match("/x", scope("example.test:8787")) == "site"
    assert router.match("/x", scope("a.example.test")) == "sub"
    assert router.match("/x", scope("127.0.0.1:8787")) == "default"
    assert router.match("/x", scope("[::1]:8787")) == "default"
