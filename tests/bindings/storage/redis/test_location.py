"""Redis locations: every form a user may write, its options, and clear refusals that never repeat a password."""

from __future__ import annotations

import pytest

from bindings import StorageError
from bindings.storage.redis.location import RedisSettings, parse_redis_location, with_prefix


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("redis://localhost", RedisSettings("redis", "localhost", 6379)),
        ("redis://127.0.0.1:6380/2", RedisSettings("redis", "127.0.0.1", 6380, db=2)),
        ("redis://[::1]:7000/0", RedisSettings("redis", "::1", 7000)),
        ("REDIS://h:1/?prefix=ci/shard-3", RedisSettings("redis", "h", 1, prefix="ci/shard-3")),
        ("redis://:pw@h/0", RedisSettings("redis", "h", password="pw")),
        ("redis://me:p%40ss@h/0", RedisSettings("redis", "h", username="me", password="p@ss")),
        (
            "rediss://h:6380/0?ssl_cert_reqs=none&ssl_ca_certs=/ca.pem",
            RedisSettings("rediss", "h", 6380, tls=(("ssl_ca_certs", "/ca.pem"), ("ssl_cert_reqs", "none"))),
        ),
        ("unix:///run/redis.sock", RedisSettings("unix", path="/run/redis.sock")),
        (
            "unix:///run/redis%20x.sock?db=3&timeout=0.5",
            RedisSettings("unix", path="/run/redis x.sock", db=3, timeout=0.5),
        ),
        ("redis://h/0?ttl_margin=0", RedisSettings("redis", "h", ttl_margin=0)),
    ],
)
def test_every_form_of_location_is_read(location: str, expected: RedisSettings) -> None:
    assert parse_redis_location(location) == expected


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("redis://", "names no host; expected redis://host:6379/0"),
        ("redis://h/zero", "the database must be a number"),
        ("redis://h:99999/0", "Port out of range"),
        ("redis://h/0?db=1", "a redis: location gives the database as its path"),
        ("redis://h/0?prefix=a{b}", "prefix must be 1 to 100 letters, digits and . _ : / -"),
        ("redis://h/0?prefix=", "prefix must be"),
        ("redis://h/0?prefix=a*", "prefix must be"),
        ("redis://h/0?timeout=0", "timeout must be a number of seconds above 0"),
        ("redis://h/0?timeout=soon", "timeout must be a number of seconds above 0"),
        ("redis://h/0?ttl_margin=-1", "ttl_margin must be a whole number of seconds"),
        ("redis://h/0?max_pages=10", "unknown option 'max_pages'; expected one of prefix, timeout, ttl_margin, db"),
        ("redis://h/0?prefix=a&prefix=b", "option 'prefix' is given twice"),
        ("redis://h/0?ssl_cert_reqs=none", "TLS options need a rediss:// location"),
        ("rediss://h/0?ssl_cert_reqs=maybe", "ssl_cert_reqs must be one of required, optional, none"),
        ("unix://relative.sock", "a unix: location names a socket by its absolute path"),
        ("redis://h/0#x", "a Redis location has no #fragment"),
    ],
)
def test_a_bad_location_is_refused_saying_what_is_wrong(location: str, message: str) -> None:
    with pytest.raises(StorageError, match="^'.*': " + message.replace("(", r"\(").replace("*", r"\*")):
        parse_redis_location(location)


def test_no_message_repeats_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        parse_redis_location("redis://me:hunter2@h/0?colour=blue")
    assert "hunter2" not in str(caught.value) and "me:***@h" in str(caught.value)
    settings = parse_redis_location("rediss://me:hunter2@h:7000/1?prefix=p")
    assert settings.public() == "rediss://me:***@h:7000/1?prefix=p"
    assert "hunter2" not in repr(settings)
    assert parse_redis_location("unix://:pw@/tmp/r.sock?db=2").public() == "unix://:***@/tmp/r.sock?db=2"


def test_with_prefix_gives_a_store_of_its_own_on_the_same_server() -> None:
    changed = with_prefix("redis://h:1/2?timeout=3&prefix=old", "new:t1")
    assert parse_redis_location(changed) == RedisSettings("redis", "h", 1, db=2, prefix="new:t1", timeout=3.0)
    with pytest.raises(StorageError, match="prefix must be"):
        with_prefix("redis://h/0", "bad prefix")
