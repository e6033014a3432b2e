"""Compact JSON, encoded without building an encoder per call: ``Response.json`` and Starlette's ``JSONResponse``.

``json.dumps`` with options (and ``JSONEncoder.encode`` too) builds a new C encoder on every call, and
a handler's JSON body is usually small, so that costs more than the encoding (README "Benchmarks").
``compact_encoder`` builds the C encoder once. It is built without json's check for circular values (a
shared check would not be safe across threads), so any error goes back to json's own encoder, which
gives the same result or raises json's own exception: a circular value, NaN, a type it cannot encode.

``speed_up_json_response`` gives Starlette's ``JSONResponse`` such an encoder for its ``render``, with
Starlette's options, so handlers returning one cost what ``Response.json`` costs. The bytes are the
same; tests/runtime/handlers/test_jsonencode.py compares them with Starlette's own ``render``.
"""

from __future__ import annotations

from collections.abc import Callable
from json import JSONEncoder
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from starlette.responses import JSONResponse

__all__ = ["STARLETTE_RENDER", "compact_encoder", "speed_up_json_response"]

STARLETTE_RENDER = JSONResponse.render


def compact_encoder(default: Callable[[Any], Any] | None = None) -> Callable[[Any], str]:
    """``JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default).encode``."""
    slow = JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default)
    if c_make_encoder is None:  # a Python built without the _json accelerator
        return slow.encode
    # The arguments JSONEncoder.iterencode passes for these options, but no circular-value check (None).
    quick = c_make_encoder(None, slow.default, encode_basestring, None, ":", ",", False, False, False)

    def encode(value: Any) -> str:
        try:
            return "".join(quick(value, 0))
        except Exception:
            return slow.encode(value)  # json's own result or its own exception, with the circular check

    return encode


_STARLETTE_ENCODE = compact_encoder()


def _render(self: JSONResponse, content: Any) -> bytes:
    return _STARLETTE_ENCODE(content).encode("utf-8")


def speed_up_json_response() -> None:
    """Give ``JSONResponse`` the encoder built once (unless something else replaced its render already)."""
    if JSONResponse.render is STARLETTE_RENDER:
        JSONResponse.render = _render  # type: ignore[method-assign]
