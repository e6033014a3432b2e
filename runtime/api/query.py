"""Query-string parameters of the REST API, checked with clear 400s."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from bindings.limits import parse_int

from .envelope import CF_VALIDATION, ApiError

__all__ = ["choice_param", "int_param"]

_INTEGER = re.compile(r"[+-]?[0-9]+")


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter in ``low..high``: ASCII digits with an optional sign, as the OpenAPI schema's
    ``integer`` says (``5.7e-150`` and ``10abc`` are not one), of any length (5,000 digits is out of range).
    """
    raw = query.get(name)
    if raw is None:
        return default
    value = parse_int(raw) if _INTEGER.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        message = f"Invalid {name} of {raw}. Please specify an integer between {low} and {high}."
        raise ApiError(400, CF_VALIDATION, message)
    return int(value)


def choice_param(query: Mapping[str, str], name: str, default: str, choices: Collection[str]) -> str:
    """A parameter that must be one of ``choices``."""
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in choices:
        allowed = ", ".join(f'"{choice}"' for choice in choices)
        raise ApiError(400, CF_VALIDATION, f'Invalid {name} of "{raw}". Please specify one of {allowed}.')
    return raw
