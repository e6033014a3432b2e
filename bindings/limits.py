"""Workers KV limits and the checks that enforce them, with Cloudflare's exact messages.

Two layers of checks exist in Cloudflare, and both are mirrored here (README, "The KV binding"):

* the binding (workerd) checks key names and coerces numeric options before sending anything;
  those failures are ``KVTypeError`` (a ``TypeError``) or a 414 for long keys;
* the KV service checks everything else on the *wire form* of a request: query-string numbers,
  the metadata JSON text, the value length. The validators below take that wire form, so the
  binding and the REST API run the very same code and produce the very same texts.

Every validator raises ``KVError(status, message)`` without an operation; the caller names the
operation (``err.for_op("PUT")``) because the same check reads differently from different calls.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import KVError, KVTypeError
from .javascript import parse_json

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "MAX_BULK_GET_BYTES",
    "MAX_BULK_GET_KEYS",
    "MAX_BULK_WRITE_BYTES",
    "MAX_BULK_WRITE_PAIRS",
    "MAX_KEY_BYTES",
    "MAX_LIST_LIMIT",
    "MAX_METADATA_BYTES",
    "MAX_SAFE_INTEGER",
    "MAX_VALUE_BYTES",
    "MIN_CACHE_TTL",
    "MIN_EXPIRATION_TTL",
    "check_bulk_count",
    "check_bulk_type",
    "check_cache_ttl",
    "check_int32",
    "check_int32_text",
    "check_key",
    "check_key_name",
    "check_list_limit",
    "check_metadata",
    "check_metadata_size",
    "check_prefix",
    "check_value_size",
    "encode_metadata",
    "parse_int",
    "resolve_expiration",
    "to_int32",
    "unsupported_value",
]

# Limits (https://developers.cloudflare.com/kv/platform/limits/; the README's table under "The KV binding").
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024  # 26,214,400
MAX_METADATA_BYTES = 1024
MIN_EXPIRATION_TTL = 60
MIN_CACHE_TTL = 30  # 60 until 2026-01-30 in production
MAX_LIST_LIMIT = 1000
MAX_BULK_GET_KEYS = 100
MAX_BULK_GET_BYTES = 25 * 1024 * 1024
MAX_BULK_WRITE_PAIRS = 10_000
MAX_BULK_WRITE_BYTES = 100 * 1000 * 1000  # "100 MB" in the REST docs
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_SAFE_INTEGER = 2**53 - 1

_OUT_OF_RANGE = f"Value out of range. Must be between {INT32_MIN} and {INT32_MAX} (inclusive)."
# What JavaScript trims around a number (ECMA-262 WhiteSpace and LineTerminator); Python's str.strip()
# and \s differ (they take \x1c-\x1f and \x85, and leave U+FEFF).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# Digits are ASCII only: JavaScript reads no other script's digits, and neither do these patterns.
_JS_NUMBER = re.compile(
    rf"[{_JS_SPACE}]*(?:([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Infinity)"
    rf"|0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+))[{_JS_SPACE}]*"
)
_JS_BLANK = re.compile(rf"[{_JS_SPACE}]*")
_JS_PARSE_INT = re.compile(rf"[{_JS_SPACE}]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))")
# parseInt gives a double; past this many digits a value is beyond every range checked here (and
# beyond 2**53, where a double stops being exact), so only its magnitude is kept.
_EXACT_DIGITS = 19


# --- numbers -------------------------------------------------------------------------------------


def _as_float(number: int) -> float:
    """A double as JavaScript would hold ``number``: Infinity past the largest finite one."""
    try:
        return float(number)
    except OverflowError:
        return math.inf


def _string_to_number(text: str) -> float:
    """JavaScript's ``Number(text)``: NaN for anything that is not a numeric literal."""
    if _JS_BLANK.fullmatch(text):
        return 0.0
    match = _JS_NUMBER.fullmatch(text)
    if match is None:
        return math.nan
    decimal, hexadecimal, octal, binary = match.groups()
    if decimal is not None:
        return float(decimal)  # float() reads "Infinity" too, and any number of digits
    # Digits in a power-of-two base convert in linear time, however many there are.
    for digits, base in ((hexadecimal, 16), (octal, 8), (binary, 2)):
        if digits is not None:
            return _as_float(int(digits, base))
    raise AssertionError(text)


def _js_to_number(value: Any) -> float:
    """JavaScript's ToNumber for the values a Python caller may pass (NaN for anything else)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int):
        return float(value) if abs(value) < 2**63 else math.inf * (1 if value > 0 else -1)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return _string_to_number(value)
    return math.nan


def check_int32(value: float) -> None:
    """Refuse a number outside the int32 range with V8's ``TypeError`` (workerd's ``int`` parameters)."""
    if not INT32_MIN <= value <= INT32_MAX:
        raise KVTypeError(400, _OUT_OF_RANGE)


def check_int32_text(raw: str | None) -> None:
    """Refuse number text (a query parameter, a flag, a bulk item's number) outside int32, as ``check_int32``.

    The binding coerces ``expiration`` and ``expiration_ttl`` to int32 before the service sees them;
    text that reaches the service another way is held to the same range (the store's integers are
    64-bit). It is read as ``parseInt`` reads it, so a number of any length is out of range, as the
    huge double JavaScript makes of it is; text that is no number at all is the service's to refuse.
    """
    if raw is not None and (value := parse_int(raw)) is not None:
        check_int32(value)


def to_int32(value: Any) -> int:
    """Coerce a numeric binding option as workerd's ``int`` parameters do (README, "The KV binding").

    Fractions are truncated; NaN, ±Infinity and non-numeric values become 0; anything outside the
    int32 range is refused with V8's ``TypeError``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        check_int32(value)
        return value
    number = _js_to_number(value)
    if math.isnan(number) or math.isinf(number):
        return 0
    truncated = math.trunc(number)
    check_int32(truncated)
    return truncated


def parse_int(raw: str) -> int | float | None:
    """JavaScript's ``parseInt(raw)``, which the KV service applies to query parameters; None for NaN.

    Like JavaScript, it reads any number of digits: a value of up to 19 digits comes back exact (an
    int); a longer one as the double JavaScript would make of it (a float, ``inf`` past about 1.8e308).
    That is past every limit it is checked against, so callers refuse it as out of range, and no
    input converts slowly or raises (``int()`` refuses more than 4,300 digits).
    """
    match = _JS_PARSE_INT.match(raw)
    if match is None:
        return None
    sign, hexadecimal, decimal = match.groups()
    number: int | float
    if hexadecimal is not None:
        number = int(hexadecimal, 16)  # a power-of-two base: linear in the digits, no limit applies
        if number.bit_length() > 64:
            number = _as_float(number)
    else:
        digits = decimal.lstrip("0") or "0"
        number = int(digits) if len(digits) <= _EXACT_DIGITS else float(digits)
    return -number if sign == "-" else number


# --- keys ----------------------------------------------------------------------------------------


def _encode_key(key: str) -> bytes:
    try:
        return key.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; on the wire it is what fails to URL-decode.
        raise KVError(400, "Could not URL-decode key name") from None


def _check_key_length(encoded: bytes) -> None:
    if len(encoded) > MAX_KEY_BYTES:
        raise KVError(414, f"UTF-8 encoded length of {len(encoded)} exceeds key length limit of {MAX_KEY_BYTES}.")


def check_key_name(key: Any) -> bytes:
    """The binding's own key checks (workerd ``validateKeyName``); returns the key's UTF-8 bytes."""
    if not isinstance(key, str):
        raise KVTypeError(400, f"Key name must be a string, got {type(key).__name__}.")
    if key == "":
        raise KVTypeError(400, "Key name cannot be empty.")
    if key in (".", ".."):
        raise KVTypeError(400, f'"{key}" is not allowed as a key name.')
    encoded = _encode_key(key)
    _check_key_length(encoded)
    return encoded


def check_key(key: Any) -> bytes:
    """The KV service's key checks (bulk get, REST); returns the key's UTF-8 bytes."""
    if not isinstance(key, str):
        raise KVError(400, f"Key names must be strings, got {type(key).__name__}")
    if key == "":
        raise KVError(400, "Key names must not be empty")
    if key in (".", ".."):
        raise KVError(400, f'Illegal key name "{key}". Please use a different name.')
    encoded = _encode_key(key)
    _check_key_length(encoded)
    return encoded


def check_prefix(prefix: str) -> bytes:
    """A list prefix is held to the key length limit; returns its UTF-8 bytes."""
    encoded = _encode_key(prefix)
    _check_key_length(encoded)
    return encoded


# --- options -------------------------------------------------------------------------------------


def check_cache_ttl(cache_ttl: int | None, raw: object = None) -> None:
    """``cacheTtl`` is validated and then ignored: locally there is a single "edge location".

    Args:
        cache_ttl: the parsed value, None when it did not parse (NaN).
        raw: how to show the value in the message when it differs from ``cache_ttl``.
    """
    if cache_ttl is None or cache_ttl < MIN_CACHE_TTL:
        shown = cache_ttl if raw is None else raw
        raise KVError(400, f"Invalid cache_ttl of {shown}. Cache TTL must be at least {MIN_CACHE_TTL}.")


def _representable(value: int | float, name: str, raw: str) -> int:
    # parseInt accepts any number of digits; beyond JS's safe integers no expiration is meaningful
    # (and beyond int64 none can be stored).
    if value > MAX_SAFE_INTEGER:
        raise KVError(400, f"Invalid {name} of {raw}. Please specify integer less than {MAX_SAFE_INTEGER + 1}.")
    return int(value)


def resolve_expiration(now: int, raw_expiration: str | None, raw_expiration_ttl: str | None) -> int | None:
    """Turn the ``expiration`` / ``expiration_ttl`` query parameters into an absolute expiration.

    The TTL wins when both are given, and the absolute value is then not even checked.

    Args:
        now: the current time in whole seconds (``floor(clock.now())``).
        raw_expiration: the ``expiration`` parameter as sent, or None.
        raw_expiration_ttl: the ``expiration_ttl`` parameter as sent, or None.
    """
    if raw_expiration_ttl is not None:
        parsed_ttl = parse_int(raw_expiration_ttl)
        if parsed_ttl is None or parsed_ttl <= 0:
            raise KVError(
                400, f"Invalid expiration_ttl of {raw_expiration_ttl}. Please specify integer greater than 0."
            )
        ttl = _representable(parsed_ttl, "expiration_ttl", raw_expiration_ttl)
        if ttl < MIN_EXPIRATION_TTL:
            raise KVError(
                400,
                f"Invalid expiration_ttl of {raw_expiration_ttl}. "
                f"Expiration TTL must be at least {MIN_EXPIRATION_TTL}.",
            )
        return now + ttl
    if raw_expiration is not None:
        parsed = parse_int(raw_expiration)
        if parsed is None or parsed <= now:
            raise KVError(
                400,
                f"Invalid expiration of {raw_expiration}. Please specify integer greater than the current number "
                "of seconds since the UNIX epoch.",
                code=10033,
            )
        expiration = _representable(parsed, "expiration", raw_expiration)
        if expiration < now + MIN_EXPIRATION_TTL:
            raise KVError(
                400,
                f"Invalid expiration of {raw_expiration}. Expiration times must be at least {MIN_EXPIRATION_TTL} "
                "seconds in the future.",
                code=10033,
            )
        return expiration
    return None


def encode_metadata(metadata: Any) -> str | None:
    """Serialise binding metadata as JavaScript's ``JSON.stringify`` would; None means no metadata."""
    if metadata is None:
        return None
    try:
        return _compact_json(metadata)
    except (TypeError, ValueError) as exc:
        raise KVTypeError(400, f"KV put() metadata must be JSON-serialisable: {exc}") from None


def _compact_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate has no UTF-8 form; JSON.stringify escapes it (\ud800), and so do we.
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text


def check_metadata_size(metadata_json: str | bytes | None) -> None:
    """Metadata is limited by the UTF-8 length of its JSON text (bytes are counted as they are)."""
    if metadata_json is not None:
        if isinstance(metadata_json, bytes):
            length = len(metadata_json)
        else:
            length = len(metadata_json.encode("utf-8", "surrogatepass"))
        if length > MAX_METADATA_BYTES:
            raise KVError(413, f"Metadata length of {length} exceeds limit of {MAX_METADATA_BYTES}.")


def check_metadata(metadata_json: str | None) -> str | None:
    """Check metadata JSON text from the wire: its size first, then that it parses. Returns it compact."""
    if metadata_json is None:
        return None
    check_metadata_size(metadata_json)
    try:
        parsed = parse_json(metadata_json)
        # JSON null is "no metadata": Cloudflare only returns metadata that is non-null.
        return None if parsed is None else _compact_json(parsed)
    except (ValueError, RecursionError):
        # Also a number past the largest double (1e400): JSON has no way to write it back.
        raise KVError(400, "metadata must be valid json", code=10147) from None


def unsupported_value() -> KVTypeError:
    """workerd's refusal of a value ``put()`` cannot store (nor a stream chunk that is not bytes)."""
    return KVTypeError(
        400, "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values."
    )


def check_value_size(length: int) -> None:
    if length > MAX_VALUE_BYTES:
        raise KVError(413, f"Value length of {length} exceeds limit of {MAX_VALUE_BYTES}.")


def check_list_limit(limit: int | None, raw: object = None) -> None:
    """The service's ``key_count_limit`` check; None stands for a limit that did not parse."""
    shown = limit if raw is None else raw
    if limit is None or limit < 1:
        raise KVError(400, f"Invalid key_count_limit of {shown}. Please specify an integer greater than 0.")
    if limit > MAX_LIST_LIMIT:
        raise KVError(400, f"Invalid key_count_limit of {shown}. Please specify an integer less than {MAX_LIST_LIMIT}.")


def check_bulk_type(value_type: Any) -> str:
    """Bulk reads return text or JSON only; returns the effective type."""
    if value_type in (None, ""):
        return "text"
    if value_type not in ("text", "json"):
        raise KVError(400, f'"{value_type}" is not a valid type. Use "json" or "text"')
    return str(value_type)


def check_bulk_count(count: int) -> None:
    if count > MAX_BULK_GET_KEYS:
        raise KVError(400, f"You can request a maximum of {MAX_BULK_GET_KEYS} keys")
    if count < 1:
        raise KVError(400, "You must request a minimum of 1 key")
