"""The KV binding's behaviour, against real SQLite files.

Sections name the page of https://developers.cloudflare.com/kv/api/ each follows; where workerhost
chooses, the README's "The KV binding" says so.

Test names follow Miniflare's KV tests where one exists, so the two suites can be read side by side.
"""

from __future__ import annotations

import json
import pickle
from collections import UserString, deque
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bindings import KVError, KVNamespace, KVTypeError, ManualClock, Store
from bindings.results import GetWithMetadataResult, ListResult

from .conftest import TIME_FUTURE, TIME_NOW

pytestmark = pytest.mark.anyio

KeyCall = Callable[[KVNamespace, str], Awaitable[object]]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _junk(length: int, chunk: int = 100) -> AsyncIterator[bytes]:
    while length > 0:
        size = min(chunk, length)
        length -= size
        yield b"x" * size


# --- key validation (write-key-value-pairs: "Parameters") -----------------------------------------

KEY_CALLS = [
    pytest.param("GET", lambda kv, key: kv.get(key), id="get"),
    pytest.param("GET", lambda kv, key: kv.get_with_metadata(key), id="get_with_metadata"),
    pytest.param("PUT", lambda kv, key: kv.put(key, "value"), id="put"),
    pytest.param("DELETE", lambda kv, key: kv.delete(key), id="delete"),
]


@pytest.mark.parametrize(("op", "call"), KEY_CALLS)
async def test_validates_key(kv: KVNamespace, op: str, call: KeyCall) -> None:
    for key, message in [
        ("", "Key name cannot be empty."),
        (".", '"." is not allowed as a key name.'),
        ("..", '".." is not allowed as a key name.'),
    ]:
        with pytest.raises(TypeError) as caught:
            await call(kv, key)
        assert str(caught.value) == message
    with pytest.raises(KVError) as error:
        await call(kv, "x" * 513)
    assert str(error.value) == f"KV {op} failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
    assert not isinstance(error.value, TypeError)


@pytest.mark.parametrize(("op", "call"), KEY_CALLS)
async def test_key_that_cannot_be_utf8_encoded_is_refused(kv: KVNamespace, op: str, call: KeyCall) -> None:
    with pytest.raises(KVError) as caught:
        await call(kv, "lone \ud800 surrogate")
    assert str(caught.value) == f"KV {op} failed: 400 Could not URL-decode key name"


async def test_key_of_512_bytes_is_accepted(kv: KVNamespace) -> None:
    await kv.put("k" * 512, "value")
    assert await kv.get("k" * 512) == "value"


async def test_keys_may_hold_any_unicode_and_nul(kv: KVNamespace) -> None:
    keys = ["a/b?c#d%20 e", "nul\x00inside", "emoji 🎉", "日本語", "\uffff", "𝄞"]
    for index, key in enumerate(keys):
        await kv.put(key, str(index))
    for index, key in enumerate(keys):
        assert await kv.get(key) == str(index)
    listed = [key.name for key in (await kv.list()).keys]
    assert listed == sorted(keys, key=lambda k: k.encode())


# --- get (read-key-value-pairs) -------------------------------------------------------------------


async def test_get_returns_value(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    assert await kv.get("key") == "value"


async def test_get_returns_none_for_non_existent_keys(kv: KVNamespace) -> None:
    assert await kv.get("key") is None


async def test_get_returns_none_for_expired_keys(kv: KVNamespace, clock: ManualClock) -> None:
    await kv.put("key", "value", expiration_ttl=60)
    assert await kv.get("key") is not None
    clock.advance(60)
    assert await kv.get("key") is None
    assert (await kv.get_with_metadata("key")).value is None


async def test_get_of_one_key_answers_as_the_service_does(kv: KVNamespace, clock: ManualClock) -> None:
    # get(key) reads the plain service's storage itself: the same answers as KVService.get, expiry
    # included (gone at its exact second, discarded past it).
    await kv.put("live", "v1")
    await kv.put("ends-now", "v2", expiration_ttl=120)
    await kv.put("ended", "v3", expiration_ttl=60)
    await kv.put("later", "v4", expiration_ttl=600)
    clock.advance(120)
    for key in ("live", "ends-now", "ended", "later", "missing"):
        entry = await kv.service.get(key.encode())
        assert await kv.get(key) == (None if entry is None else entry.value.decode())
    assert [await kv.get(key) for key in ("live", "ends-now", "ended", "later")] == ["v1", None, None, "v4"]
    await kv.put("after", "v5")  # queued after the discard, so acknowledged after it
    assert await kv.service.storage.get(b"ended") is None  # discarded past its expiration
    assert (await kv.service.storage.get(b"ends-now")) is not None  # still listed during its second


async def test_get_types(kv: KVNamespace) -> None:
    await kv.put("key", '{"a": [1, 2]}')
    assert await kv.get("key") == '{"a": [1, 2]}'
    assert await kv.get("key", "text") == '{"a": [1, 2]}'
    assert await kv.get("key", "json") == {"a": [1, 2]}
    assert await kv.get("key", type="json") == {"a": [1, 2]}
    assert await kv.get("key", {"type": "json"}) == {"a": [1, 2]}
    assert await kv.get("key", "bytes") == b'{"a": [1, 2]}'
    buffer = await kv.get("key", "arrayBuffer")
    assert isinstance(buffer, memoryview) and bytes(buffer) == b'{"a": [1, 2]}'
    stream = await kv.get("key", "stream")
    assert b"".join([chunk async for chunk in stream]) == b'{"a": [1, 2]}'


async def test_get_json_of_invalid_json_raises(kv: KVNamespace) -> None:
    await kv.put("key", "not json")
    with pytest.raises(ValueError):
        await kv.get("key", "json")


async def test_get_unknown_type_raises_type_error_only_for_present_keys(kv: KVNamespace) -> None:
    assert await kv.get("missing", "banana") is None  # checked after the fetch, as in workerd
    await kv.put("key", "value")
    with pytest.raises(TypeError) as caught:
        await kv.get("key", "banana")
    assert str(caught.value) == 'Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".'


async def test_get_validates_but_ignores_cache_ttl(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    with pytest.raises(KVError) as caught:
        await kv.get("key", {"cacheTtl": "not a number"})
    assert str(caught.value) == "KV GET failed: 400 Invalid cache_ttl of 0. Cache TTL must be at least 30."
    with pytest.raises(
        KVError, match=r"^KV GET failed: 400 Invalid cache_ttl of 29\. Cache TTL must be at least 30\.$"
    ):
        await kv.get("key", cache_ttl=29)
    assert await kv.get("key", cacheTtl=30) == "value"
    assert await kv.get("key", {"type": "text", "cacheTtl": 60}) == "value"


async def test_get_cache_ttl_outside_int32_is_a_type_error(kv: KVNamespace) -> None:
    with pytest.raises(TypeError, match=r"^Value out of range\. Must be between -2147483648 and 2147483647"):
        await kv.get("key", cache_ttl=2**31)


async def test_get_with_metadata(kv: KVNamespace) -> None:
    await kv.put("key", "value", metadata={"testing": True})
    result = await kv.get_with_metadata("key")
    assert isinstance(result, GetWithMetadataResult)
    assert (result.value, result.metadata, result.cache_status) == ("value", {"testing": True}, None)
    assert (result["value"], result["metadata"], result["cacheStatus"]) == ("value", {"testing": True}, None)
    assert result == {"value": "value", "metadata": {"testing": True}, "cacheStatus": None}
    assert (await kv.getWithMetadata("key", {"type": "bytes"})).value == b"value"  # the camelCase alias


async def test_get_with_metadata_of_missing_key_is_all_none(kv: KVNamespace) -> None:
    result = await kv.getWithMetadata("missing")
    assert result.to_dict() == {"value": None, "metadata": None, "cacheStatus": None}


async def test_get_with_metadata_without_metadata(kv: KVNamespace) -> None:
    await kv.put("key", b"\x01\x02")
    result = await kv.get_with_metadata("key", "bytes")
    assert (result.value, result.metadata) == (b"\x01\x02", None)


# --- bulk get (read-key-value-pairs: "Request multiple keys") ------------------------------------


async def test_bulk_get_returns_dict_in_request_order_with_none_for_missing(kv: KVNamespace) -> None:
    await kv.put("a", "1")
    await kv.put("b", "2")
    assert await kv.get(["b", "missing", "a"]) == {"b": "2", "missing": None, "a": "1"}
    assert list(await kv.get(["b", "missing", "a"])) == ["b", "missing", "a"]


async def test_bulk_get_collapses_duplicate_keys(kv: KVNamespace) -> None:
    await kv.put("a", "1")
    assert await kv.get(["a", "a"]) == {"a": "1"}


async def test_bulk_get_json(kv: KVNamespace) -> None:
    await kv.put("a", '{"x": 1}')
    await kv.put("b", "[1]")
    assert await kv.get(["a", "b"], "json") == {"a": {"x": 1}, "b": [1]}


async def test_bulk_get_with_metadata(kv: KVNamespace) -> None:
    await kv.put("a", "1", metadata={"m": 1})
    await kv.put("b", "2")
    result = await kv.get_with_metadata(["a", "b", "c"])
    assert result["a"] == {"value": "1", "metadata": {"m": 1}}
    assert result["a"].value == "1" and result["a"]["metadata"] == {"m": 1}
    assert "expiration" not in result["a"]
    assert result["b"] == {"value": "2", "metadata": None}
    assert result["c"] is None  # a missing key is None, not {value: None, metadata: None}


async def test_bulk_get_with_metadata_keeps_metadata_of_falsy_values(kv: KVNamespace) -> None:
    await kv.put("empty", "", metadata={"m": 0})
    await kv.put("zero", "0", metadata={"m": 1})
    result = await kv.get_with_metadata(["empty", "zero"])
    assert result == {"empty": {"value": "", "metadata": {"m": 0}}, "zero": {"value": "0", "metadata": {"m": 1}}}


async def test_bulk_get_skips_expired_keys(kv: KVNamespace, clock: ManualClock) -> None:
    await kv.put("a", "1", expiration_ttl=60)
    await kv.put("b", "2")
    clock.advance(60)
    assert await kv.get(["a", "b"]) == {"a": None, "b": "2"}


@pytest.mark.parametrize("value_type", ["arrayBuffer", "stream", "bytes", "invalid"])
async def test_bulk_get_validates_type(kv: KVNamespace, value_type: str) -> None:
    with pytest.raises(KVError) as caught:
        await kv.get(["key"], value_type)
    assert str(caught.value) == f'KV GET_BULK failed: 400 "{value_type}" is not a valid type. Use "json" or "text"'


async def test_bulk_get_validates_key_count(kv: KVNamespace) -> None:
    with pytest.raises(KVError, match="^KV GET_BULK failed: 400 You can request a maximum of 100 keys$"):
        await kv.get([f"k{i}" for i in range(101)])
    with pytest.raises(KVError, match="^KV GET_BULK failed: 400 You must request a minimum of 1 key$"):
        await kv.get([])
    assert len(await kv.get([f"k{i}" for i in range(100)])) == 100


async def test_bulk_get_validates_type_before_count(kv: KVNamespace) -> None:
    with pytest.raises(KVError, match="is not a valid type"):
        await kv.get([], "stream")


async def test_bulk_get_validates_keys_with_service_messages(kv: KVNamespace) -> None:
    for keys, status, message in [
        ([""], 400, "Key names must not be empty"),
        (["ok", "."], 400, 'Illegal key name ".". Please use a different name.'),
        (["x" * 513], 414, "UTF-8 encoded length of 513 exceeds key length limit of 512."),
    ]:
        with pytest.raises(KVError) as caught:
            await kv.get(keys)
        assert str(caught.value) == f"KV GET_BULK failed: {status} {message}"


async def test_bulk_get_validates_cache_ttl(kv: KVNamespace) -> None:
    with pytest.raises(
        KVError, match="^KV GET_BULK failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30.$"
    ):
        await kv.get(["a"], {"cacheTtl": 10})


async def test_bulk_get_json_of_non_json_value(kv: KVNamespace) -> None:
    await kv.put("a", "{}")
    await kv.put("b", "not json")
    with pytest.raises(KVError) as caught:
        await kv.get(["a", "b"], "json")
    assert str(caught.value) == (
        "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"
    )


async def test_bulk_get_total_size_limit(kv: KVNamespace) -> None:
    half = b"x" * (13 * 1024 * 1024)
    await kv.put("a", half)
    await kv.put("b", half)
    assert len((await kv.get(["a"]))["a"]) == len(half)
    with pytest.raises(KVError) as caught:
        await kv.get(["a", "b"])
    assert str(caught.value) == "KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB"


async def test_bulk_get_takes_any_sequence_of_keys(kv: KVNamespace) -> None:
    # The signature promised Sequence[str]; only a list or tuple used to be a bulk get, and any other
    # sequence was refused as one key ("Key name must be a string, got deque.").
    await kv.put("a", "1", metadata={"m": 1})
    assert await kv.get(deque(["a", "b"])) == {"a": "1", "b": None}
    assert await kv.get_with_metadata(deque(["a"])) == {"a": {"value": "1", "metadata": {"m": 1}}}
    with pytest.raises(KVError, match="^KV GET_BULK failed: 400 Key names must be strings, got int$"):
        await kv.get(range(3))


@pytest.mark.parametrize("key", [b"a", bytearray(b"a"), memoryview(b"a"), UserString("a")])
async def test_a_bytes_like_or_string_like_key_is_one_key_not_a_list(kv: KVNamespace, key: object) -> None:
    with pytest.raises(KVTypeError, match=f"^Key name must be a string, got {type(key).__name__}.$"):
        await kv.get(key, "text")  # type: ignore[arg-type]


async def test_bulk_get_of_json_null_reads_as_missing(kv: KVNamespace) -> None:
    await kv.put("n", "null", metadata={"m": 1})
    assert await kv.get_with_metadata(["n"], "json") == {"n": None}


# --- put (write-key-value-pairs) ------------------------------------------------------------------


async def test_put_puts_value(kv: KVNamespace) -> None:
    await kv.put("key", "value", expiration=TIME_FUTURE, metadata={"testing": True})
    result = await kv.get_with_metadata("key")
    assert (result.value, result.metadata) == ("value", {"testing": True})
    assert (await kv.list()).keys[0].expiration == TIME_FUTURE


async def test_put_puts_empty_value(kv: KVNamespace) -> None:
    await kv.put("key", "")
    assert await kv.get("key") == ""


async def test_put_overrides_existing_keys_whole(kv: KVNamespace) -> None:
    await kv.put("key", "value1", expiration=TIME_FUTURE, metadata={"old": True})
    await kv.put("key", "value2")  # no metadata or expiration: both are cleared
    result = await kv.get_with_metadata("key")
    assert (result.value, result.metadata) == ("value2", None)
    assert (await kv.list()).keys[0].to_dict() == {"name": "key"}


async def test_put_keys_are_case_sensitive(kv: KVNamespace) -> None:
    await kv.put("key", "lower")
    await kv.put("KEY", "upper")
    assert (await kv.get("key"), await kv.get("KEY")) == ("lower", "upper")


async def test_put_stores_a_number_as_javascripts_string_of_it(kv: KVNamespace) -> None:
    # Python's str() wrote 1e-07 and 1e-05 where JavaScript's String(n) writes 1e-7 and 0.00001.
    await kv.put("tiny", 1e-7)
    await kv.put("small", 0.00001)
    await kv.put("huge", 1e21)
    assert await kv.get(["tiny", "small", "huge"]) == {"tiny": "1e-7", "small": "0.00001", "huge": "1e+21"}


async def test_put_accepts_every_value_type(kv: KVNamespace) -> None:
    await kv.put("str", "é")
    await kv.put("bytes", b"\x00\xff")
    await kv.put("bytearray", bytearray(b"ba"))
    await kv.put("memoryview", memoryview(b"mv"))
    await kv.put("stream", _chunks(b"st", bytearray(b"re"), memoryview(b"am")))
    await kv.put("int", 12)
    await kv.put("float", 1.5)
    await kv.put("whole-float", 2.0)
    await kv.put("bool", True)
    got = await kv.get(["str", "int", "float", "whole-float", "bool", "stream", "bytearray", "memoryview"])
    assert got == {
        "str": "é",
        "int": "12",
        "float": "1.5",
        "whole-float": "2",
        "bool": "true",
        "stream": "stream",
        "bytearray": "ba",
        "memoryview": "mv",
    }
    assert await kv.get("bytes", "bytes") == b"\x00\xff"


async def test_put_copies_mutable_buffers(kv: KVNamespace) -> None:
    buffer = bytearray(b"before")
    await kv.put("key", buffer)
    buffer[:] = b"after!"
    assert await kv.get("key") == "before"


@pytest.mark.parametrize("value", [None, {"a": 1}, ["a"], object()])
async def test_put_validates_value_type(kv: KVNamespace, value: object) -> None:
    with pytest.raises(TypeError) as caught:
        await kv.put("key", value)
    assert str(caught.value) == (
        "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
    )


async def test_put_validates_expiration_ttl(kv: KVNamespace) -> None:
    for ttl, message in [
        ("nan", "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        (0, "Invalid expiration_ttl of 0. Please specify integer greater than 0."),
        (-5, "Invalid expiration_ttl of -5. Please specify integer greater than 0."),
        (30, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        (59, "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."),
    ]:
        with pytest.raises(KVError) as caught:
            await kv.put("key", "value", expiration_ttl=ttl)
        assert str(caught.value) == f"KV PUT failed: 400 {message}"
    assert await kv.get("key") is None


async def test_put_validates_expiration(kv: KVNamespace) -> None:
    past = "Please specify integer greater than the current number of seconds since the UNIX epoch."
    soon = "Expiration times must be at least 60 seconds in the future."
    for expiration, message in [
        ("nan", f"Invalid expiration of 0. {past}"),
        (TIME_NOW, f"Invalid expiration of {TIME_NOW}. {past}"),
        (
            TIME_NOW + 30,
            f"Invalid expiration of {TIME_NOW + 30}. {soon}",
        ),
        (
            TIME_NOW + 59,
            f"Invalid expiration of {TIME_NOW + 59}. {soon}",
        ),
    ]:
        with pytest.raises(KVError) as caught:
            await kv.put("key", "value", expiration=expiration)
        assert str(caught.value) == f"KV PUT failed: 400 {message}"


async def test_put_expiration_boundaries(kv: KVNamespace) -> None:
    await kv.put("ttl", "v", expiration_ttl=60)
    await kv.put("abs", "v", expiration=TIME_NOW + 60)
    expirations = {key.name: key.expiration for key in (await kv.list()).keys}
    assert expirations == {"abs": TIME_NOW + 60, "ttl": TIME_NOW + 60}


async def test_put_ttl_wins_over_expiration(kv: KVNamespace) -> None:
    await kv.put("key", "value", expiration=1, expiration_ttl=120)  # the bad expiration is ignored
    assert (await kv.list()).keys[0].expiration == TIME_NOW + 120


async def test_put_ttl_is_relative_to_the_floored_clock(kv: KVNamespace, clock: ManualClock) -> None:
    clock.set(TIME_NOW + 0.9)
    await kv.put("key", "value", expiration_ttl=60)
    assert (await kv.list()).keys[0].expiration == TIME_NOW + 60


async def test_put_options_as_dict_camel_case_or_none(kv: KVNamespace) -> None:
    await kv.put("a", "1", {"expirationTtl": 60, "metadata": {"m": 1}})
    await kv.put("b", "2", {"expiration": TIME_FUTURE})
    await kv.put("c", "3", None)
    await kv.put("d", "4", expirationTtl=90)
    keys = {key.name: key.to_dict() for key in (await kv.list()).keys}
    assert keys == {
        "a": {"name": "a", "expiration": TIME_NOW + 60, "metadata": {"m": 1}},
        "b": {"name": "b", "expiration": TIME_FUTURE},
        "c": {"name": "c"},
        "d": {"name": "d", "expiration": TIME_NOW + 90},
    }


async def test_put_numeric_options_outside_int32_are_type_errors(kv: KVNamespace) -> None:
    for options in [{"expiration": 2**31}, {"expirationTtl": -(2**31) - 1}]:
        with pytest.raises(TypeError, match="^Value out of range"):
            await kv.put("key", "value", options)


async def test_put_checks_in_order(kv: KVNamespace) -> None:
    # int32 range, then key, then value type, then TTL, then metadata size, then value size.
    big_metadata = {"k": "x" * 2000}
    with pytest.raises(TypeError, match="Value out of range"):
        await kv.put("", {}, expiration_ttl=2**40)
    with pytest.raises(TypeError, match="Key name cannot be empty"):
        await kv.put("", {}, expiration_ttl=1)
    with pytest.raises(TypeError, match="accepts only strings"):
        await kv.put("key", {}, expiration_ttl=1)
    with pytest.raises(KVError, match="Invalid expiration_ttl of 1"):
        await kv.put("key", "v", expiration_ttl=1, metadata=big_metadata)
    with pytest.raises(KVError, match="413 Metadata length"):
        await kv.put("key", b"x" * (26_214_401), metadata=big_metadata)


async def test_put_validates_metadata_size(kv: KVNamespace) -> None:
    padding = "x" * (1024 - len('{"key":""}'))
    await kv.put("ok", "v", metadata={"key": padding})
    with pytest.raises(KVError) as caught:
        await kv.put("key", _chunks(b"value"), metadata={"key": padding + "x"})
    assert str(caught.value) == "KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024."


async def test_put_stores_any_json_metadata(kv: KVNamespace) -> None:
    for key, metadata in [("n", 123), ("s", "example"), ("z", 0), ("f", False), ("e", ""), ("l", [1, {"a": None}])]:
        await kv.put(key, "v", metadata=metadata)
        assert (await kv.get_with_metadata(key)).metadata == metadata


async def test_put_validates_value_size(kv: KVNamespace) -> None:
    limit = 26_214_400
    with pytest.raises(KVError) as caught:
        await kv.put("key", b"x" * (limit + 1))
    assert str(caught.value) == f"KV PUT failed: 413 Value length of {limit + 1} exceeds limit of {limit}."
    with pytest.raises(KVError) as caught:
        await kv.put("key", _junk(limit + 1, chunk=1 << 20))
    assert str(caught.value) == f"KV PUT failed: 413 Value length of {limit + 1} exceeds limit of {limit}."
    await kv.put("key", _junk(limit, chunk=1 << 20))
    assert len(await kv.get("key", "bytes")) == limit


async def test_put_stream_of_non_bytes_is_a_type_error(kv: KVNamespace) -> None:
    async def strings() -> AsyncIterator[str]:
        yield "text"

    with pytest.raises(TypeError, match="accepts only strings"):
        await kv.put("key", strings())


# --- delete (delete-key-value-pairs) --------------------------------------------------------------


async def test_delete_deletes_existing_keys(kv: KVNamespace) -> None:
    await kv.put("key", "value")
    await kv.delete("key")
    assert await kv.get("key") is None


async def test_delete_does_nothing_for_non_existent_keys(kv: KVNamespace) -> None:
    assert await kv.delete("key") is None


# --- list (list-keys) -----------------------------------------------------------------------------


async def _fill(kv: KVNamespace, *keys: str) -> None:
    for key in keys:
        await kv.put(key, f"value-{key}")


async def test_list_lists_keys_in_sorted_order(kv: KVNamespace) -> None:
    await _fill(kv, "key3", "key1", "key2")
    page = await kv.list()
    assert isinstance(page, ListResult)
    assert page == {
        "keys": [{"name": "key1"}, {"name": "key2"}, {"name": "key3"}],
        "list_complete": True,
        "cacheStatus": None,
    }
    assert "cursor" not in page and page.get("cursor") is None and page.cursor is None
    with pytest.raises(KeyError):
        page["cursor"]


async def test_list_sorts_by_utf8_bytes(kv: KVNamespace) -> None:
    # U+FF5E sorts before U+1F600 in UTF-8 (and code points) but after it in UTF-16.
    await _fill(kv, ", ", "!", "\U0001f600", "\uff5e", "a", "B")
    assert [key.name for key in (await kv.list()).keys] == ["!", ", ", "B", "a", "\uff5e", "\U0001f600"]


async def test_list_lists_keys_matching_prefix(kv: KVNamespace) -> None:
    await _fill(kv, "section1key1", "section1key2", "section2key1", "section1")
    page = await kv.list(prefix="section1")
    assert [key.name for key in page.keys] == ["section1", "section1key1", "section1key2"]


async def test_list_prefix_is_case_sensitive(kv: KVNamespace) -> None:
    await _fill(kv, "key1", "key2", "KEY1", "KEY2")
    assert [key["name"] for key in (await kv.list({"prefix": "KEY"}))["keys"]] == ["KEY1", "KEY2"]


async def test_list_prefix_permits_special_characters(kv: KVNamespace) -> None:
    await _fill(kv, "key\\_%1", "key\\a", "key\\_%2", "key\\bbb", "key\\_%3")
    assert [key.name for key in (await kv.list(prefix="key\\_%")).keys] == ["key\\_%1", "key\\_%2", "key\\_%3"]


async def test_list_lists_keys_with_expiration_and_metadata(kv: KVNamespace) -> None:
    await kv.put("key1", "v", expiration=TIME_FUTURE, metadata={"testing": 1})
    await kv.put("key2", "v", metadata={"testing": 2})
    await kv.put("key3", "v", expiration=TIME_FUTURE + 200)
    page = await kv.list()
    assert [key.to_dict() for key in page.keys] == [
        {"name": "key1", "expiration": TIME_FUTURE, "metadata": {"testing": 1}},
        {"name": "key2", "metadata": {"testing": 2}},
        {"name": "key3", "expiration": TIME_FUTURE + 200},
    ]
    assert "expiration" not in page.keys[1] and page.keys[1].expiration is None
    assert "metadata" not in page.keys[2] and page.keys[2].get("metadata") is None


async def test_list_returns_an_empty_list_with_no_keys(kv: KVNamespace) -> None:
    assert (await kv.list()).to_dict() == {"keys": [], "list_complete": True, "cacheStatus": None}
    await _fill(kv, "key1")
    assert (await kv.list(prefix="none")).keys == []


async def test_list_paginates_keys(kv: KVNamespace) -> None:
    await _fill(kv, "key1", "key2", "key3")
    page = await kv.list(limit=2)
    assert [key.name for key in page.keys] == ["key1", "key2"]
    assert page.list_complete is False and isinstance(page.cursor, str)
    page = await kv.list(limit=2, cursor=page.cursor)
    assert [key.name for key in page.keys] == ["key3"]
    assert page.list_complete is True and "cursor" not in page


async def test_list_paginates_keys_matching_prefix(kv: KVNamespace) -> None:
    await _fill(kv, "section1key1", "section1key2", "section1key3", "section2key1")
    page = await kv.list(prefix="section1", limit=2)
    assert [key.name for key in page.keys] == ["section1key1", "section1key2"]
    page = await kv.list(prefix="section1", limit=2, cursor=page.cursor)
    assert [key.name for key in page.keys] == ["section1key3"] and page.list_complete


async def test_list_accepts_long_prefix(kv: KVNamespace) -> None:
    await kv.put("x" * 512, "value")
    assert [key.name for key in (await kv.list(prefix="x" * 512)).keys] == ["x" * 512]


async def test_list_validates_prefix_length(kv: KVNamespace) -> None:
    with pytest.raises(KVError) as caught:
        await kv.list(prefix="x" * 513)
    assert str(caught.value) == "KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."


async def test_list_paginates_with_variable_limit(kv: KVNamespace) -> None:
    await _fill(kv, "key1", "key2", "key3")
    page = await kv.list(limit=1)
    assert [key.name for key in page.keys] == ["key1"] and not page.list_complete
    page = await kv.list(limit=2, cursor=page.cursor)
    assert [key.name for key in page.keys] == ["key2", "key3"] and page.list_complete


async def test_list_returns_keys_inserted_whilst_paginating(kv: KVNamespace) -> None:
    await _fill(kv, "key1", "key3", "key5")
    page = await kv.list(limit=2)
    assert [key.name for key in page.keys] == ["key1", "key3"]
    await _fill(kv, "key2", "key4")
    page = await kv.list(limit=2, cursor=page.cursor)
    assert [key.name for key in page.keys] == ["key4", "key5"] and page.list_complete


async def test_list_ignores_expired_keys(kv: KVNamespace, clock: ManualClock) -> None:
    for i in range(1, 4):
        await kv.put(f"key{i}", f"value{i}", expiration=TIME_NOW + i * 60)
    clock.advance(130)
    assert await kv.list() == {
        "keys": [{"name": "key3", "expiration": TIME_NOW + 180}],
        "list_complete": True,
        "cacheStatus": None,
    }


async def test_list_page_is_filled_past_expired_keys(kv: KVNamespace, clock: ManualClock) -> None:
    for i in range(5):
        await kv.put(f"dead{i}", "v", expiration_ttl=60)
    await _fill(kv, "live1", "live2")
    clock.advance(61)
    page = await kv.list(limit=2)
    assert [key.name for key in page.keys] == ["live1", "live2"] and page.list_complete


async def test_list_at_the_exact_expiration_second_matches_miniflare(kv: KVNamespace, clock: ManualClock) -> None:
    # get treats expiration <= now as gone; list keeps expiration >= now, as Miniflare does.
    await kv.put("key", "value", expiration_ttl=60)
    clock.advance(60)
    assert await kv.get("key") is None
    assert [key.name for key in (await kv.list()).keys] == ["key"]
    clock.advance(0.001)
    assert (await kv.list()).keys == []


async def test_list_validates_limit(kv: KVNamespace) -> None:
    with pytest.raises(KVError) as caught:
        await kv.list(limit=1001)
    assert (
        str(caught.value)
        == "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."
    )
    with pytest.raises(TypeError, match="Value out of range"):
        await kv.list(limit=2**31)


async def test_list_limit_zero_or_less_means_the_default(kv: KVNamespace) -> None:
    await _fill(kv, *[f"k{i:04}" for i in range(1001)])
    for limit in (0, -1, "nan", None):
        page = await kv.list(limit=limit)
        assert len(page.keys) == 1000 and not page.list_complete
    page = await kv.list(limit=1000)
    rest = await kv.list(cursor=page.cursor)
    assert [key.name for key in rest.keys] == ["k1000"] and rest.list_complete


async def test_list_options_as_dict_or_none(kv: KVNamespace) -> None:
    await _fill(kv, "p:1", "p:2", "q")
    page = await kv.list({"prefix": "p:", "limit": 1})
    assert page["list_complete"] is False and page.get("cursor")
    assert len((await kv.list(None)).keys) == 3


async def test_list_cursor_is_base64_of_the_last_key(kv: KVNamespace) -> None:
    await _fill(kv, "a", "b")
    assert (await kv.list(limit=1)).cursor == "YQ=="


# --- the binding object, as Cloudflare's Python Workers hand it to a script ------------------------


async def test_binding_is_truthy_but_not_iterable_or_sized(kv: KVNamespace) -> None:
    assert kv
    with pytest.raises(TypeError, match="^'KvNamespace' object is not iterable$"):
        iter(kv)
    with pytest.raises(TypeError, match=r"^object of type 'KvNamespace' has no len\(\)$"):
        len(kv)


async def test_binding_cannot_be_serialized(kv: KVNamespace) -> None:
    with pytest.raises(TypeError, match="^A KV namespace binding cannot be serialized.$"):
        pickle.dumps(kv)


async def test_results_serialise_to_json_via_to_dict(kv: KVNamespace) -> None:
    await kv.put("a", "1", metadata={"m": 1})
    page = await kv.list()
    assert json.loads(json.dumps(page.to_dict())) == {
        "keys": [{"name": "a", "metadata": {"m": 1}}],
        "list_complete": True,
        "cacheStatus": None,
    }


async def test_errors_are_picklable(kv: KVNamespace) -> None:
    with pytest.raises(KVError) as caught:
        await kv.put("key", "v", expiration_ttl=1)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (str(copy), copy.status, copy.op) == (str(caught.value), 400, "PUT")
    assert isinstance(pickle.loads(pickle.dumps(KVTypeError(400, "x"))), TypeError)


async def test_two_bindings_on_one_namespace_see_each_others_writes(store: Store, clock: ManualClock) -> None:
    info = await store.create_namespace("shared")
    first = KVNamespace(await store.namespace(info.id), clock)
    second = KVNamespace(await store.namespace(info.id), clock)
    await first.put("key", "from first")
    assert await second.get("key") == "from first"


async def test_metadata_with_a_lone_surrogate_round_trips(kv: KVNamespace) -> None:
    await kv.put("key", "v", metadata={"s": "\ud800"})
    assert (await kv.get_with_metadata("key")).metadata == {"s": "\ud800"}
    assert (await kv.list()).keys[0].metadata == {"s": "\ud800"}


async def test_a_get_at_the_exact_expiration_second_does_not_hide_the_key_from_list(
    kv: KVNamespace, clock: ManualClock
) -> None:
    await kv.put("key", "value", expiration_ttl=60)
    clock.advance(60)
    assert await kv.get("key") is None
    await kv.put("barrier", "v")  # any lazy delete queued by the get has now run
    assert [key.name for key in (await kv.list()).keys] == ["barrier", "key"]
