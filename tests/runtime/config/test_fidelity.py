"""Production-fidelity modes in kv.yaml (top level and per namespace) and for the pytest marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindings.fidelity import FidelitySettings
from bindings.storage import NamespaceInfo
from runtime.config import load_config
from runtime.config.fidelity import fidelity_plan, with_modes
from runtime.errors import ConfigError

from .test_config import load_error, project

ID = "0f2ac74b498b48028cb68387c421e279"
OTHER_ID = "1f2ac74b498b48028cb68387c421e279"

MODES = """
fidelity:
  rate_limit: true
  consistency: eventual
  writes: another_location
  cache_ttl: 120
  negative_ttl: 30
  list_lag: 5
  limits: strict
  api_rate_limit: true
kv_namespaces:
  - title: counters
    fidelity: {consistency: strong, limits: off}
  - title: links
"""


def test_every_mode_is_off_without_a_fidelity_block(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, "kv_namespaces: [{title: a}]\n"), environ={})
    assert config.fidelity == FidelitySettings()
    assert config.fidelity.active is False
    assert config.kv_namespaces[0].fidelity is None
    assert config.api.rate_limit is False


def test_the_top_level_block_sets_every_namespace_and_a_namespace_block_overrides_it(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, MODES), environ={})
    everywhere = FidelitySettings(
        rate_limit=True,
        consistency="eventual",
        writes="another_location",
        cache_ttl=120,
        negative_ttl=30,
        list_lag=5,
        limits="strict",
    )
    assert config.fidelity == everywhere
    assert config.api.rate_limit is True
    counters, links = config.kv_namespaces
    assert counters.fidelity == FidelitySettings(
        rate_limit=True, writes="another_location", cache_ttl=120, negative_ttl=30, list_lag=5
    )
    assert links.fidelity is None  # the top-level modes
    plan = fidelity_plan(config, {"counters": NamespaceInfo(ID, "counters"), "links": NamespaceInfo(OTHER_ID, "links")})
    assert plan.settings_for(ID) == counters.fidelity
    assert plan.settings_for(OTHER_ID) == everywhere
    assert plan.settings_for("an id created through the REST API") == everywhere


def test_a_namespace_can_turn_a_mode_on_alone(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, "kv_namespaces: [{title: a, fidelity: {rate_limit: yes}}]\n"), environ={})
    assert config.fidelity.active is False
    assert config.kv_namespaces[0].fidelity == FidelitySettings(rate_limit=True)


@pytest.mark.parametrize(
    ("kv_yaml", "message"),
    [
        (
            "fidelity:\n  rate_limt: true\n",
            "kv.yaml:2: fidelity.rate_limt is not a known mode; expected one of: rate_limit, consistency, writes, "
            'cache_ttl, negative_ttl, list_lag, limits, api_rate_limit (did you mean "rate_limit"?)',
        ),
        (
            "fidelity: eventual\n",
            "kv.yaml:1: fidelity must be a mapping of modes, e.g. {rate_limit: true}, got 'eventual'",
        ),
        ("fidelity:\n  rate_limit: 1\n", "kv.yaml:2: fidelity.rate_limit must be true or false, got 1"),
        (
            "fidelity:\n  consistency: eventually\n",
            "kv.yaml:2: fidelity.consistency must be 'strong' or 'eventual', got 'eventually'",
        ),
        (
            "fidelity:\n  writes: elsewhere\n",
            "kv.yaml:2: fidelity.writes must be 'same_location' or 'another_location', got 'elsewhere'",
        ),
        ("fidelity:\n  limits: true\n", "kv.yaml:2: fidelity.limits must be 'off' or 'strict', got true"),
        (
            "fidelity:\n  cache_ttl: 10\n",
            "kv.yaml:2: fidelity.cache_ttl must be a whole number of seconds, at least 30 (the minimum "
            "cacheTtl), got 10",
        ),
        (
            "fidelity:\n  list_lag: -1\n",
            "kv.yaml:2: fidelity.list_lag must be a whole number of seconds, at least 0, got -1",
        ),
        (
            "fidelity:\n  negative_ttl: 1.5\n",
            "kv.yaml:2: fidelity.negative_ttl must be a whole number of seconds, at least 0, got 1.5",
        ),
        (
            "kv_namespaces:\n  - title: a\n    fidelity:\n      api_rate_limit: true\n",
            "kv.yaml:4: kv_namespaces[0].fidelity.api_rate_limit is the REST API's limit per user, not one "
            "namespace's; set it in the top-level fidelity",
        ),
        (
            "kv_namespaces:\n  - title: a\n    fidelity: [rate_limit]\n",
            "kv.yaml:3: kv_namespaces[0].fidelity must be a mapping of modes, e.g. {rate_limit: true}, got a list",
        ),
    ],
)
def test_bad_modes_name_file_line_and_key(tmp_path: Path, kv_yaml: str, message: str) -> None:
    assert load_error(tmp_path, kv_yaml) == message


def test_the_marker_modes_win_over_kv_yaml_everywhere(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, MODES), environ={})
    pinned = with_modes(config, {"consistency": "strong", "rate_limit": False, "api_rate_limit": False}, "marker")
    assert pinned.fidelity == FidelitySettings(
        writes="another_location", cache_ttl=120, negative_ttl=30, list_lag=5, limits="strict"
    )
    assert pinned.kv_namespaces[0].fidelity == FidelitySettings(
        writes="another_location", cache_ttl=120, negative_ttl=30, list_lag=5
    )
    assert pinned.kv_namespaces[1].fidelity is None
    assert pinned.api.rate_limit is False
    assert with_modes(config, {}, "marker") == config


def test_bad_marker_modes_are_config_errors_naming_the_marker(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, ""), environ={})
    with pytest.raises(ConfigError) as caught:
        with_modes(config, {"consistancy": "eventual"}, "@pytest.mark.workerhost_fidelity")
    assert str(caught.value) == (
        "@pytest.mark.workerhost_fidelity: consistancy is not a known mode; expected one of: rate_limit, "
        'consistency, writes, cache_ttl, negative_ttl, list_lag, limits, api_rate_limit (did you mean "consistency"?)'
    )
    with pytest.raises(ConfigError, match=r"^m: limits must be 'off' or 'strict', got 'lax'$"):
        with_modes(config, {"limits": "lax"}, "m")
