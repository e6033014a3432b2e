"""Query-string parameters of the REST API, checked with clear 400s."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bindings.limits import parse_int, to_int32

from .envelope import CF_VALIDATION, ApiError

__all__ = ["check_int32", "choice_param", "int_param"]


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer parameter in ``low..high``, read as the KV service reads numbers (JS ``parseInt``)."""
    raw = query.get(name)
    if raw is None:
        return default
    value = parse_int(raw)
    if value is None or not low <= value <= high:
        message = f"Invalid {name} of {raw}. Please specify an integer between {low} and {high}."
        raise ApiError(400, CF_VALIDATION, message)
    return value


def choice_param(query: Mapping[str, str], name: str, default: str, choices: Collection[str]) -> str:
    """A parameter that must be one of ``choices``."""
    raw = query.get(name)
    if raw is None:
        return default
    if raw not in choices:
        allowed = ", ".join(f'"{choice}"' for choice in choices)
        raise ApiError(400, CF_VALIDATION, f'Invalid {name} of "{raw}". Please specify one of {allowed}.')
    return raw


def check_int32(raw: str | None) -> None:
    """Refuse an ``expiration`` / ``expiration_ttl`` outside int32, with workerd's range message.

    The binding coerces these options to int32 before they reach the service; the REST API hands
    the service raw text, so it holds them to the same range (the store's integers are 64-bit).
    """
    if raw is not None and (value := parse_int(raw)) is not None:
        to_int32(value)
