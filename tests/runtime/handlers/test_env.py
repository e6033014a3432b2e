from __future__ import annotations

import pytest

from runtime.handlers.env import Env


def test_env_has_attribute_and_item_access() -> None:
    env = Env({"KV": 1, "GREETING": "hi"})
    assert env.KV == env["KV"] == 1
    assert "GREETING" in env and "NOPE" not in env
    assert getattr(env, "NOPE", None) is None
    assert sorted(env) == ["GREETING", "KV"] and len(env) == 2


def test_env_is_read_only() -> None:
    env = Env({"A": 1})
    with pytest.raises(AttributeError, match="env is read-only"):
        env.A = 2
    with pytest.raises(AttributeError, match="env is read-only"):
        del env.A


def test_env_repr_hides_secrets() -> None:
    assert repr(Env({"A": 1, "TOKEN": "hunter22"}, frozenset({"TOKEN"}))) == "Env(A=1, TOKEN=[secret])"
