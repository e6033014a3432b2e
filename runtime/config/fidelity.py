"""Production-fidelity modes in kv.yaml and in the pytest plugin's marker (README, "Production fidelity").

The same modes are read from three places, with the same checks and messages:

* kv.yaml's top-level ``fidelity:`` block, for every namespace (and ``api_rate_limit``, the REST
  API's limit per user);
* a namespace's own ``kv_namespaces[].fidelity:`` block, whose keys win over the top-level ones;
* ``@pytest.mark.workerhost_fidelity(...)``, whose keys win over both, for one test.

``fidelity_plan`` then maps each declared namespace's id to its settings for the host.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from bindings.fidelity import FidelityPlan, FidelitySettings
from bindings.fidelity.settings import CONSISTENCY, LIMITS, MIN_CACHE_TTL, WRITES
from bindings.limits import MAX_SAFE_INTEGER
from bindings.storage.base import NamespaceInfo

from ..errors import ConfigError
from .model import RuntimeConfig

__all__ = ["HOST_KEYS", "NAMESPACE_KEYS", "fidelity_plan", "read_modes", "with_modes"]

NAMESPACE_KEYS = ("rate_limit", "consistency", "writes", "cache_ttl", "negative_ttl", "list_lag", "limits")
HOST_KEYS = (*NAMESPACE_KEYS, "api_rate_limit")
API_RATE_LIMIT = "api_rate_limit"

# (key, message) -> never returns: the caller knows the file and line, or the marker.
Fail = Callable[[str, str], NoReturn]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    return repr(value) if isinstance(value, str | int | float) else f"a {type(value).__name__}"


def _choice(value: Any, choices: tuple[str, ...], name: str, fail: Fail, key: str) -> str:
    if value not in choices:
        fail(key, f"{name} must be {' or '.join(repr(choice) for choice in choices)}, got {_describe(value)}")
    return str(value)


def _seconds(value: Any, low: int, name: str, fail: Fail, key: str, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_SAFE_INTEGER:
        fail(key, f"{name} must be a whole number of seconds, at least {low}{why}, got {_describe(value)}")
    return value


def _flag(value: Any, name: str, fail: Fail, key: str) -> bool:
    if not isinstance(value, bool):
        fail(key, f"{name} must be true or false, got {_describe(value)}")
    return value


def _limits(value: Any, name: str, fail: Fail, key: str) -> str:
    # YAML reads a bare `off` as false.
    if value is False:
        return "off"
    return _choice(value, LIMITS, name, fail, key)


def read_modes(values: Mapping[Any, Any], path: str, fail: Fail, *, host: bool) -> dict[str, Any]:
    """Check a block of modes; returns the settings it gives, by name.

    Args:
        values: the block: kv.yaml's mapping or the marker's keyword arguments.
        path: what names the block in messages (``"fidelity"``, ``"kv_namespaces[0].fidelity"``, or
            ``""`` for the marker).
        fail: reports a problem with one key.
        host: the host-wide block, which may also set ``api_rate_limit``.
    """
    keys = HOST_KEYS if host else NAMESPACE_KEYS
    given: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{path}.{key}" if path else str(key)
        if key == API_RATE_LIMIT and not host:
            fail(key, f"{name} is the REST API's limit per user, not one namespace's; set it in the top-level fidelity")
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            fail(str(key), f"{name} is not a known mode; expected one of: {', '.join(keys)}{hint}")
        given[key] = _read(key, value, name, fail)
    return given


def _read(key: str, value: Any, name: str, fail: Fail) -> Any:
    if key in ("rate_limit", API_RATE_LIMIT):
        return _flag(value, name, fail, key)
    if key == "consistency":
        return _choice(value, CONSISTENCY, name, fail, key)
    if key == "writes":
        return _choice(value, WRITES, name, fail, key)
    if key == "limits":
        return _limits(value, name, fail, key)
    if key == "cache_ttl":
        return _seconds(value, MIN_CACHE_TTL, name, fail, key, " (the minimum cacheTtl)")
    return _seconds(value, 0, name, fail, key)  # negative_ttl, list_lag


def settings_with(base: FidelitySettings, given: Mapping[str, Any]) -> FidelitySettings:
    """``base`` with the namespace modes of ``given`` (from ``read_modes``) applied."""
    return dataclasses.replace(base, **{key: value for key, value in given.items() if key != API_RATE_LIMIT})


def with_modes(config: RuntimeConfig, modes: Mapping[str, Any], source: str) -> RuntimeConfig:
    """``config`` with ``modes`` set for the whole host, over kv.yaml's own (the pytest marker's job).

    Raises:
        ConfigError: ``source: <what is wrong>`` for an unknown mode or a bad value.
    """

    def fail(key: str, message: str) -> NoReturn:
        raise ConfigError(f"{source}: {message}")

    given = read_modes(modes, "", fail, host=True)
    namespaces = tuple(
        ns if ns.fidelity is None else dataclasses.replace(ns, fidelity=settings_with(ns.fidelity, given))
        for ns in config.kv_namespaces
    )
    api = config.api
    if API_RATE_LIMIT in given:
        api = dataclasses.replace(api, rate_limit=given[API_RATE_LIMIT])
    return dataclasses.replace(
        config, fidelity=settings_with(config.fidelity, given), kv_namespaces=namespaces, api=api
    )


def fidelity_plan(config: RuntimeConfig, namespaces: Mapping[str, NamespaceInfo]) -> FidelityPlan:
    """Each declared namespace's settings by its id (``namespaces`` maps declared titles to namespaces)."""
    own = {
        namespaces[declared.title].id: declared.fidelity
        for declared in config.kv_namespaces
        if declared.fidelity is not None and declared.title in namespaces
    }
    return FidelityPlan(config.fidelity, MappingProxyType(own))
