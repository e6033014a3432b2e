from __future__ import annotations

import re
from pathlib import Path

import pytest

from bindings.storage import sqlite_location
from bindings.storage.sqlite.location import parse_sqlite_location
from runtime.config import DEFAULT_ACCOUNT_ID, RuntimeConfig, load_config, reload_config
from runtime.errors import ConfigError
from tests.support import write_files

GOOD = """
kv_namespaces:
  - title: counters
  - title: links
    id: 0f2ac74b498b48028cb68387c421e279
workers:
  - name: counter
    script: w/worker.py
    routes: ["/counter", "/counter/*"]
    kv_namespaces:
      - binding: COUNTER
        namespace: counters
      - binding: LINKS
        namespace: 0f2ac74b498b48028cb68387c421e279
    vars: {GREETING: hello, LIMIT: 3}
    triggers:
      crons: ["*/5 * * * *"]
api:
  tokens_env: MY_TOKENS
"""


def project(tmp_path: Path, kv_yaml: str, dev_vars: str | None = None) -> Path:
    files = {"kv.yaml": kv_yaml, "w/worker.py": "async def fetch(request, env, ctx): ...\n"}
    if dev_vars is not None:
        files[".dev.vars"] = dev_vars
    write_files(tmp_path, files)
    return tmp_path / "kv.yaml"


def load_error(tmp_path: Path, kv_yaml: str, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(project(tmp_path, kv_yaml), environ={}, **kwargs)  # type: ignore[arg-type]
    # Messages start with the file as given; tests compare the rest.
    return str(info.value).replace(str(tmp_path / "kv.yaml"), "kv.yaml").replace(str(tmp_path), "<tmp>")


def test_load_config_reads_every_section(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, GOOD), environ={"MY_TOKENS": "a, b,,", "WORKERHOST_API_READ_TOKENS": "r"})
    assert config.account_id == DEFAULT_ACCOUNT_ID
    assert config.persist_to == tmp_path / ".workerhost"
    assert [(n.title, n.id) for n in config.kv_namespaces] == [
        ("counters", None),
        ("links", "0f2ac74b498b48028cb68387c421e279"),
    ]
    worker = config.workers[0]
    assert worker.script == tmp_path / "w" / "worker.py"
    assert worker.routes == ("/counter", "/counter/*")
    assert [(b.binding, b.title) for b in worker.kv_namespaces] == [("COUNTER", "counters"), ("LINKS", "links")]
    assert dict(worker.vars) == {"GREETING": "hello", "LIMIT": 3}
    assert worker.crons == ("*/5 * * * *",)
    assert config.api.tokens == frozenset({"a", "b"})
    assert config.api.read_tokens == frozenset({"r"})
    assert (config.host, config.port, config.reload) == ("127.0.0.1", 8787, True)


def test_tokens_never_appear_in_the_config_repr(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, GOOD, "API_KEY=hunter22\n"), environ={"MY_TOKENS": "tok-123"})
    assert "tok-123" not in repr(config)
    assert "hunter22" not in repr(config)
    assert config.secrets["API_KEY"] == "hunter22"


def test_an_empty_file_is_a_config_with_no_workers(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, ""), environ={})
    assert config.workers == () and config.kv_namespaces == ()


def test_a_worker_without_routes_gets_every_path(tmp_path: Path) -> None:
    config = load_config(project(tmp_path, "workers: [{name: a, script: w/worker.py}]"), environ={})
    assert config.workers[0].routes == ("/*",)


def test_precedence_is_flag_then_environment_then_file_then_default(tmp_path: Path) -> None:
    path = project(tmp_path, "persist_to: data\n")
    assert load_config(path, environ={}).persist_to == tmp_path / "data"
    environ = {
        "WORKERHOST_PERSIST_TO": str(tmp_path / "env"),
        "WORKERHOST_PORT": "9000",
        "WORKERHOST_HOST": "::1",
        "WORKERHOST_NO_RELOAD": "1",
    }
    config = load_config(path, environ=environ)
    assert (config.persist_to, config.port, config.host, config.reload) == (tmp_path / "env", 9000, "::1", False)
    flags = {"persist_to": str(tmp_path / "flag"), "port": "9100", "host": "127.0.0.2", "no_reload": None}
    config = load_config(path, environ=environ, overrides=flags)
    assert (config.persist_to, config.port, config.host, config.reload) == (tmp_path / "flag", 9100, "127.0.0.2", False)


def _max_pages(config: RuntimeConfig) -> int | None:
    return parse_sqlite_location(config.storage).max_pages


def test_a_database_page_cap_comes_from_flag_or_environment_and_is_off_by_default(tmp_path: Path) -> None:
    path = project(tmp_path, "")
    assert _max_pages(load_config(path, environ={})) is None
    assert _max_pages(load_config(path, environ={"WORKERHOST_MAX_DB_PAGES": "300"})) == 300
    config = load_config(path, environ={"WORKERHOST_MAX_DB_PAGES": "300"}, overrides={"max_db_pages": "40"})
    assert _max_pages(config) == 40


@pytest.mark.parametrize("pages", ["0", "-5", "lots", "1.5"])
def test_a_database_page_cap_must_be_a_positive_whole_number(tmp_path: Path, pages: str) -> None:
    path = project(tmp_path, "")
    message = f"WORKERHOST_MAX_DB_PAGES must be a whole number of pages from 1 to 4294967294, got '{pages}'"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        load_config(path, environ={"WORKERHOST_MAX_DB_PAGES": pages})


def test_a_database_page_cap_in_non_ascii_digits_is_a_config_error(tmp_path: Path) -> None:
    # "²".isdigit() is True but int("²") raises: this was a ValueError traceback, not a clean message.
    path = project(tmp_path, "")
    message = "WORKERHOST_MAX_DB_PAGES must be a whole number of pages from 1 to 4294967294, got '²'"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        load_config(path, environ={"WORKERHOST_MAX_DB_PAGES": "²"})


TIMEOUTS = [
    ("import_timeout", "--import-timeout", "WORKERHOST_IMPORT_TIMEOUT", 10.0),
    ("header_timeout", "--header-timeout", "WORKERHOST_HEADER_TIMEOUT", 20.0),
    ("idle_timeout", "--idle-timeout", "WORKERHOST_IDLE_TIMEOUT", 5.0),
]


@pytest.mark.parametrize(("name", "flag", "env", "default"), TIMEOUTS)
def test_time_limits_come_from_flag_or_environment_in_seconds(
    tmp_path: Path, name: str, flag: str, env: str, default: float
) -> None:
    path = project(tmp_path, "")
    assert getattr(load_config(path, environ={}), name) == default
    assert getattr(load_config(path, environ={env: "2.5"}), name) == 2.5
    assert getattr(load_config(path, environ={env: "2.5"}, overrides={name: "1"}), name) == 1.0


@pytest.mark.parametrize(("name", "flag", "env", "default"), TIMEOUTS)
@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan", ""])
def test_time_limits_must_be_positive_numbers_of_seconds(
    tmp_path: Path, name: str, flag: str, env: str, default: float, value: str
) -> None:
    path = project(tmp_path, "")
    message = f"{flag} ({env}) must be a number of seconds above 0, got '{value}'"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        load_config(path, environ={env: value})


def test_the_store_location_is_sqlite_in_the_persist_directory(tmp_path: Path) -> None:
    path = project(tmp_path, "persist_to: data\n")
    assert load_config(path, environ={}).storage == sqlite_location(tmp_path / "data")
    config = load_config(path, environ={"WORKERHOST_PERSIST_TO": str(tmp_path / "env")})
    assert config.storage == sqlite_location(tmp_path / "env")
    config = load_config(path, environ={}, overrides={"persist_to": str(tmp_path / "flag"), "max_db_pages": "60"})
    assert config.storage == sqlite_location(tmp_path / "flag", max_pages=60)


@pytest.mark.parametrize(
    ("value", "enabled"), [("0", False), ("off", False), (" False ", False), ("no", False), ("1", True), ("x", True)]
)
def test_the_read_cache_follows_workerhost_read_cache_in_the_config_environment(
    tmp_path: Path, value: str, enabled: bool
) -> None:
    path = project(tmp_path, "")
    assert parse_sqlite_location(load_config(path, environ={}).storage).read_cache
    config = load_config(path, environ={"WORKERHOST_READ_CACHE": value})
    assert parse_sqlite_location(config.storage).read_cache is enabled


def test_lock_and_stream_timeouts_and_the_sweep_interval_come_from_the_environment(tmp_path: Path) -> None:
    path = project(tmp_path, "")
    defaults = load_config(path, environ={})
    settings = parse_sqlite_location(defaults.storage)
    assert (settings.lock_timeout, settings.stream_timeout, defaults.sweep_interval) == (5.0, 60.0, 60.0)
    environ = {"WORKERHOST_LOCK_TIMEOUT": "0.5", "WORKERHOST_STREAM_TIMEOUT": "2", "WORKERHOST_SWEEP_INTERVAL": "0.25"}
    config = load_config(path, environ=environ)
    settings = parse_sqlite_location(config.storage)
    assert (settings.lock_timeout, settings.stream_timeout, config.sweep_interval) == (0.5, 2.0, 0.25)


@pytest.mark.parametrize("name", ["WORKERHOST_LOCK_TIMEOUT", "WORKERHOST_STREAM_TIMEOUT", "WORKERHOST_SWEEP_INTERVAL"])
@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_timeout_must_be_a_number_of_seconds_above_0(tmp_path: Path, name: str, value: str) -> None:
    path = project(tmp_path, "")
    message = f"{name} must be a number of seconds above 0, got '{value}'"
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        load_config(path, environ={name: value})


def test_config_path_comes_from_flag_then_environment(tmp_path: Path) -> None:
    path = project(tmp_path, "")
    assert load_config(environ={"WORKERHOST_CONFIG": str(path)}).path == path
    assert load_config(environ={"WORKERHOST_CONFIG": "nope.yaml"}, overrides={"config": str(path)}).path == path


def test_reloaded_rereads_the_file_with_the_same_settings(tmp_path: Path) -> None:
    path = project(tmp_path, "")
    config = load_config(path, environ={"WORKERHOST_PORT": "9001"})
    path.write_text("workers: [{name: a, script: w/worker.py}]\n")
    again = reload_config(config)
    assert [w.name for w in again.workers] == ["a"] and again.port == 9001


ERRORS = [
    pytest.param(
        "workers: [{name: a, script: w/worker.py, routs: [/x]}]",
        "kv.yaml:1: workers[0].routs is not a known key; expected one of: name, script, routes, "
        'kv_namespaces, vars, triggers, assets (did you mean "routes"?)',
        id="unknown-key",
    ),
    pytest.param(
        "acount_id: x\n",
        "kv.yaml:1: acount_id is not a known key; expected one of: account_id, persist_to, storage, encryption, "
        'kv_namespaces, workers, api, fidelity (did you mean "account_id"?)',
        id="unknown-top-key",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    routes: /x\n",
        "kv.yaml:4: workers[0].routes must be a list of route patterns, got '/x'",
        id="wrong-type",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: 3\n",
        "kv.yaml:3: workers[0].script must be the path of the handler script, relative to kv.yaml, got 3",
        id="script-not-a-string",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: missing.py\n",
        'kv.yaml:3: workers[0].script "missing.py" does not exist (looked for <tmp>/missing.py); '
        "expected the path of the handler script, relative to kv.yaml",
        id="missing-script",
    ),
    pytest.param(
        "workers:\n  - script: w/worker.py\n",
        "kv.yaml:2: workers[0].name is required: a name for the worker, e.g. counter",
        id="missing-name",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    kv_namespaces:\n"
        "      - {binding: KV, namespace: countrs}\n",
        'kv.yaml:5: workers[0].kv_namespaces[0].namespace "countrs" is not declared in kv_namespaces; '
        "expected the title or id of a declared namespace (none are declared)",
        id="unknown-namespace",
    ),
    pytest.param(
        "kv_namespaces: [{title: c}]\nworkers:\n  - name: a\n    script: w/worker.py\n"
        "    kv_namespaces:\n      - {binding: KV, namespace: c}\n      - {binding: KV, namespace: c}\n",
        'kv.yaml:7: workers[0].kv_namespaces[1].binding "KV" is already bound at line 6; expected each '
        "binding name once per worker",
        id="duplicate-binding",
    ),
    pytest.param(
        "kv_namespaces: [{title: c}]\nworkers:\n  - name: a\n    script: w/worker.py\n"
        "    kv_namespaces:\n      - {binding: 3, namespace: c}\n",
        "kv.yaml:6: workers[0].kv_namespaces[0].binding must be a variable name like MY_KV, got 3",
        id="binding-not-a-string",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    routes: [/x]\n"
        "  - name: b\n    script: w/worker.py\n    routes: [/y, /x]\n",
        'kv.yaml:7: workers[1].routes[1] "/x" is already claimed by worker "a" (workers[0].routes[0], '
        "line 4); expected each route to belong to one worker",
        id="route-claimed-twice",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n  - name: b\n    script: w/worker.py\n",
        'kv.yaml:4: workers[1].routes (default) "/*" is already claimed by worker "a" '
        "(workers[0].routes (default), line 2); expected each route to belong to one worker",
        id="default-routes-clash",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    routes: [/a*b]\n",
        'kv.yaml:4: workers[0].routes[0] "/a*b" is not a route pattern: * may only end the path, as in '
        '/api/*; expected "/path", "/path*" or "host/path*"',
        id="bad-route",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    routes: [/__workerhost/x]\n",
        'kv.yaml:4: workers[0].routes[0] "/__workerhost/x" is under /__workerhost/, /__scheduled, which '
        "workerhost reserves for its dev routes; expected another path",
        id="reserved-route",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n    triggers: {crons: ['61 * * * *']}\n",
        'kv.yaml:4: workers[0].triggers.crons[0] "61 * * * *" is not a cron expression: minute 61 is out of range 0-59',
        id="bad-cron",
    ),
    pytest.param(
        "workers:\n  - name: a\n    script: w/worker.py\n  - name: a\n    script: w/worker.py\n    routes: [/b]\n",
        'kv.yaml:4: workers[1].name "a" is already the name of another worker (line 2); expected unique worker names',
        id="duplicate-worker",
    ),
    pytest.param(
        "kv_namespaces:\n  - title: c\n  - title: c\n",
        'kv.yaml:3: kv_namespaces[1].title "c" is already declared by kv_namespaces[0] (line 2); expected '
        "each title once",
        id="duplicate-title",
    ),
    pytest.param(
        "kv_namespaces:\n  - {title: c, id: XYZ}\n",
        "kv.yaml:2: kv_namespaces[0].id must be 32 lowercase hex digits, got 'XYZ'",
        id="bad-id",
    ),
    pytest.param(
        "account_id: 123\n",
        "kv.yaml:1: account_id must be a string of 32 lowercase hex digits (quote it in YAML), got 123",
        id="numeric-account-id",
    ),
    pytest.param(
        "kv_namespaces: [{title: c}]\nworkers:\n  - name: a\n    script: w/worker.py\n"
        "    kv_namespaces: [{binding: C, namespace: c}]\n    vars: {C: 1}\n",
        "kv.yaml:6: workers[0].vars.C has the name of the KV binding at line 5; expected var names that "
        "differ from binding names",
        id="var-clashes-with-binding",
    ),
    pytest.param("workers: [1, 2\n", "kv.yaml:2: invalid YAML: did not find expected ',' or ']'", id="bad-yaml"),
    pytest.param(
        "a: 1\na: 2\n", "kv.yaml:2: key 'a' appears twice in one mapping (first at line 1)", id="duplicate-key"
    ),
    pytest.param("- 1\n", "kv.yaml:1: the top level must be a mapping of settings, got a list", id="top-level-list"),
    pytest.param(
        "api: {tokens: abc}\n",
        "kv.yaml:1: api.tokens is not a known key; expected one of: tokens_env, read_tokens_env "
        '(did you mean "tokens_env"?)',
        id="tokens-in-file",
    ),
]


@pytest.mark.parametrize(("kv_yaml", "message"), ERRORS)
def test_config_errors_name_file_line_and_key_path(tmp_path: Path, kv_yaml: str, message: str) -> None:
    assert load_error(tmp_path, kv_yaml) == message


def test_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("nope.yaml: not found (looked for")):
        load_config(tmp_path / "nope.yaml", environ={})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WORKERHOST_PORT": "http"}, "port must be a number from 0 to 65535, got 'http'"),
        (
            {"WORKERHOST_NO_RELOAD": "maybe"},
            "WORKERHOST_NO_RELOAD must be true or false (1/0, yes/no, on/off), got 'maybe'",
        ),
    ],
)
def test_bad_environment_settings_are_errors(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(project(tmp_path, ""), environ=environ)
    assert str(info.value) == message


def test_dev_vars_errors_give_the_line_but_never_the_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(project(tmp_path, "", "# secrets\nAPI_KEY=ok\nsupersecretvalue\n"), environ={})
    assert str(info.value).endswith(".dev.vars:3: expected NAME=value, but the line has no '='")
    assert "supersecretvalue" not in str(info.value)


def test_a_secret_named_like_a_binding_is_an_error(tmp_path: Path) -> None:
    kv_yaml = (
        "kv_namespaces: [{title: c}]\nworkers:\n  - name: a\n    script: w/worker.py\n"
        "    kv_namespaces: [{binding: C, namespace: c}]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(project(tmp_path, kv_yaml, "C=x\n"), environ={})
    assert str(info.value).endswith(
        '.dev.vars:1: C is also the KV binding of worker "a" ('
        + str(tmp_path / "kv.yaml")
        + ":5); expected secret names that differ from binding names"
    )
