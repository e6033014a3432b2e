"""``@pytest.mark.workerhost(...)``: what one test (or a module, a class) changes about its host.

    config="other/kv.yaml"            another config file, relative to the rootdir
    vars={"GREETING": "hey"}          vars over the config's, for every worker
    secrets={"API_KEY": "test-key"}   secrets over the config's (and .dev.vars'), for every worker
    raise_handler_exceptions=False    a handler's exception gives the 500 page instead of being raised
    fresh_modules=True                a host of the test's own: handler modules imported for it alone

Markers nearer the test win: a function's over its class's over its module's, name by name for vars
and secrets. A mistake fails the test's setup with one line naming the marker.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import RuntimeConfig

__all__ = ["MARKER", "TestOptions", "read_markers", "with_values"]

MARKER = "workerhost"
_WHERE = f"@pytest.mark.{MARKER}"
_KNOWN = ("config", "vars", "secrets", "raise_handler_exceptions", "fresh_modules")


@dataclass(frozen=True)
class TestOptions:
    """What the markers of one test say; empty when it has none."""

    __test__ = False  # not a test class

    config: Path | None = None
    vars: tuple[tuple[str, Any], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()
    raise_handler_exceptions: bool = True
    fresh_modules: bool = False
    hashable: bool = field(default=True, compare=False)  # vars that can key the session's hosts


class MarkerError(ValueError):
    """A ``workerhost`` marker that cannot be used; the message is one line, for the test's setup failure."""


def read_markers(markers: Iterable[Any], rootdir: Path) -> TestOptions:
    """Merge ``markers`` (nearest first, as ``node.iter_markers`` gives them); raises ``MarkerError``."""
    config: Path | None = None
    values: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    raising: bool | None = None
    fresh: bool | None = None
    for marker in markers:
        if marker.args:
            raise MarkerError(f"{_WHERE}: options are keyword arguments, e.g. vars={{...}}; got {marker.args!r}")
        for name in marker.kwargs:
            if name not in _KNOWN:
                raise MarkerError(f"{_WHERE}: {name} is not a known option; expected one of: {', '.join(_KNOWN)}")
        kwargs = marker.kwargs
        if config is None and kwargs.get("config") is not None:
            given = kwargs["config"]
            if not isinstance(given, str | Path) or not str(given):
                raise MarkerError(f"{_WHERE}: config must be a path to a config file, got {given!r}")
            config = (rootdir / given).absolute()
        for name, value in _mapping(kwargs, "vars").items():
            values.setdefault(name, value)
        for name, value in _mapping(kwargs, "secrets").items():
            if not isinstance(value, str):
                raise MarkerError(f"{_WHERE}: secrets are strings, as in .dev.vars; {name} is {value!r}")
            secrets.setdefault(name, value)
        if raising is None and "raise_handler_exceptions" in kwargs:
            raising = _switch(kwargs, "raise_handler_exceptions")
        if fresh is None and "fresh_modules" in kwargs:
            fresh = _switch(kwargs, "fresh_modules")
    hashable = True
    try:
        hash(tuple(values.items()))
    except TypeError:
        hashable = False  # a dict or list var cannot key the session's hosts: the test gets one of its own
    return TestOptions(
        config,
        tuple(sorted(values.items())),
        tuple(sorted(secrets.items())),
        True if raising is None else raising,
        bool(fresh),
        hashable,
    )


def _switch(kwargs: Mapping[str, Any], name: str) -> bool:
    given = kwargs[name]
    if not isinstance(given, bool):
        raise MarkerError(f"{_WHERE}: {name} is True or False, got {given!r}")
    return given


def _mapping(kwargs: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    given = kwargs.get(name)
    if given is None:
        return {}
    if not isinstance(given, Mapping) or not all(isinstance(key, str) and key for key in given):
        raise MarkerError(f"{_WHERE}: {name} must be a dict of names to values, got {given!r}")
    return given


def with_values(config: RuntimeConfig, options: TestOptions) -> RuntimeConfig:
    """``config`` with the options' vars and secrets over its own, for every worker."""
    if not options.vars and not options.secrets:
        return config
    from ..config.secrets import Secrets

    workers = tuple(
        dataclasses.replace(worker, vars={**worker.vars, **dict(options.vars)}) for worker in config.workers
    )
    secrets = config.secrets
    if options.secrets:
        merged = {**dict(secrets), **dict(options.secrets)}
        secrets = Secrets(merged, {name: secrets.lines.get(name, 0) for name in merged}, _WHERE)
    return dataclasses.replace(config, workers=workers, secrets=secrets)
