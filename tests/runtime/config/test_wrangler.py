"""wrangler configs read as wrangler reads them: JSONC, TOML, [env.NAME], KV ids, assets, errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config import load_config
from runtime.config.discovery import find_config
from runtime.config.jsonc import JsoncError, parse_jsonc
from runtime.config.wrangler import local_namespace
from runtime.errors import ConfigError
from tests.support import write_files

SCRIPT = {"src/entry.py": "async def fetch(request, env, ctx): ...\n"}


def load(tmp_path: Path, name: str, text: str, **kwargs: object) -> object:
    write_files(tmp_path, {name: text, **SCRIPT})
    return load_config(tmp_path / name, environ={}, **kwargs)  # type: ignore[arg-type]


def error(tmp_path: Path, name: str, text: str, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, name, text, **kwargs)
    return str(info.value).replace(str(tmp_path) + "/", "")


def test_jsonc_allows_comments_and_trailing_commas_and_keeps_lines() -> None:
    data = parse_jsonc('// head\n{\n  "a": [1, 2,], /* note */\n  "b": {"c": "d",},\n}\n')
    assert data == {"a": [1, 2], "b": {"c": "d"}}
    assert (data.key_lines["a"], data.key_lines["b"], data["b"].line) == (3, 4, 4)
    with pytest.raises(JsoncError) as info:
        parse_jsonc('{\n  "a": 1\n  "b": 2\n}')
    assert (info.value.line, info.value.message) == (3, 'expected "," or "}" after a value in an object')


def test_a_jsonc_config_reads_name_main_vars_crons_and_kv(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "wrangler.jsonc",
        """
        {
          "name": "shop", "main": "src/entry.py", "compatibility_date": "2025-11-02",
          "compatibility_flags": ["python_workers"],
          "vars": {"GREETING": "hi", "LIMITS": {"max": 3}},
          "triggers": {"crons": ["0 17 * * sun"]},
          "kv_namespaces": [{"binding": "CART", "id": "test-kv"}],
        }
        """,
    )
    (worker,) = config.workers  # type: ignore[attr-defined]
    assert (worker.name, worker.script_display, worker.routes, worker.crons) == (
        "shop",
        "src/entry.py",
        ("/*",),
        ("0 17 * * sun",),
    )
    assert dict(worker.vars) == {"GREETING": "hi", "LIMITS": {"max": 3}}
    assert (worker.compatibility_date, worker.compatibility_flags) == ("2025-11-02", ("python_workers",))
    (binding,) = worker.kv_namespaces
    assert (binding.binding, binding.title, binding.namespace_id) == ("CART", "test-kv", local_namespace("test-kv").id)
    assert [(n.title, n.id) for n in config.kv_namespaces] == [("test-kv", local_namespace("test-kv").id)]  # type: ignore[attr-defined]


def test_a_kv_id_maps_to_the_same_namespace_every_time_and_a_real_id_is_kept() -> None:
    assert local_namespace("<YOUR_KV_NAMESPACE_ID>") == local_namespace("<YOUR_KV_NAMESPACE_ID>")
    assert local_namespace("a").id != local_namespace("b").id
    real = "0f2ac74b498b48028cb68387c421e279"
    assert (local_namespace(real).title, local_namespace(real).id) == (real, real)


TOML = """
name = "app"
main = "src/entry.py"
compatibility_date = "2025-11-02"

[vars]
STAGE = "production"

[[kv_namespaces]]
binding = "DATA"
id = "prod"

[env.staging]
compatibility_date = "2025-12-01"

[[env.staging.kv_namespaces]]
binding = "DATA"
id = "stage"
preview_id = "stage-preview"
"""


def test_env_inherits_main_and_compatibility_but_not_vars_or_bindings(tmp_path: Path) -> None:
    config = load(tmp_path, "wrangler.toml", TOML, overrides={"env": "staging"})
    (worker,) = config.workers  # type: ignore[attr-defined]
    assert (worker.name, worker.script_display, worker.compatibility_date) == (
        "app-staging",
        "src/entry.py",
        "2025-12-01",
    )
    assert dict(worker.vars) == {}
    (binding,) = worker.kv_namespaces
    assert binding.title == "stage-preview"  # dev binds preview_id, as wrangler dev does
    assert (binding.by_id.title, binding.by_preview_id.title) == ("stage", "stage-preview")  # type: ignore[union-attr]
    assert tuple(w.replace(f"{tmp_path}/", "") for w in config.warnings) == (  # type: ignore[attr-defined]
        'wrangler.toml:5: "vars" exists at the top level, but not on "env.staging"; it is not inherited by '
        'environments, so env.staging has none (add "vars" to "env.staging")',
    )


def test_an_unknown_environment_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    assert error(tmp_path, "wrangler.toml", TOML, overrides={"env": "stagng"}) == (
        'wrangler.toml:12: there is no environment "stagng" (env.stagng); environments: staging '
        '(did you mean "staging"?)'
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("wrangler.toml", 'name = "a"\nmain = [', "wrangler.toml:2: invalid TOML: "),
        (
            "wrangler.jsonc",
            '{"main": "src/entry.py",\n "kv_namespaces": [{"id": "x"}]}',
            "wrangler.jsonc:2: kv_namespaces[0].binding is required",
        ),
        (
            "wrangler.toml",
            'main = "src/entry.py"\n\n[[kv_namespaces]]\nbinding = "a-b"\nid = "x"',
            "wrangler.toml:4: kv_namespaces[0].binding must be a variable name",
        ),
        ("wrangler.jsonc", '{"main": "src/index.ts"}', 'wrangler.jsonc:1: main "src/index.ts" is not a .py file'),
        ("wrangler.jsonc", '{\n"main": "src/other.py"}', 'wrangler.jsonc:2: main "src/other.py" does not exist'),
        ("wrangler.jsonc", '{"name": "x"}', "wrangler.jsonc:1: main is required"),
        (
            "wrangler.toml",
            'main = "src/entry.py"\n[triggers]\ncrons = ["0 0 * * 0"]',
            'wrangler.toml:3: triggers.crons[0] "0 0 * * 0" is not a cron expression: day of week 0 is out of',
        ),
        (
            "wrangler.toml",
            'main = "src/entry.py"\n[assets]\ndirectory = "src"\nnot_found_handling = "spa"',
            'wrangler.toml:4: assets.not_found_handling must be one of "none", "single-page-application", "404-page"',
        ),
        (
            "wrangler.toml",
            'main = "src/entry.py"\n[assets]\ndirectory = "public"',
            'wrangler.toml:3: assets.directory "public" is not a folder',
        ),
        ("wrangler.jsonc", "[1]", "wrangler.jsonc:1: the top level must be an object of settings, got a list"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    assert error(tmp_path, name, text).startswith(message)


def test_unknown_keys_are_warnings_with_a_suggestion(tmp_path: Path) -> None:
    config = load(tmp_path, "wrangler.jsonc", '{\n "main": "src/entry.py",\n "kv_namespace": []\n}')
    assert tuple(w.replace(f"{tmp_path}/", "") for w in config.warnings) == (  # type: ignore[attr-defined]
        "wrangler.jsonc:3: kv_namespace is not a wrangler setting workerhost knows; it is ignored "
        '(did you mean "kv_namespaces"?)',
    )


def test_bindings_not_emulated_are_listed_with_their_kind(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "wrangler.toml",
        'main = "src/entry.py"\n[[d1_databases]]\nbinding = "DB"\n[[r2_buckets]]\nbinding = "FILES"\n'
        '[ai]\nbinding = "AI"\n[durable_objects]\nbindings = [{name = "ROOM", class_name = "Room"}]\n'
        '[[queues.producers]]\nbinding = "JOBS"\nqueue = "jobs"\n',
    )
    (worker,) = config.workers  # type: ignore[attr-defined]
    assert [(b.name, b.kind) for b in worker.unavailable] == [
        ("DB", "D1 database"),
        ("FILES", "R2 bucket"),
        ("AI", "Workers AI"),
        ("ROOM", "Durable Object namespace"),
        ("JOBS", "Queue"),
    ]


def test_assets_are_read_with_their_modes(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    config = load(
        tmp_path,
        "wrangler.jsonc",
        '{"main": "src/entry.py", "assets": {"directory": "./public", "binding": "ASSETS", '
        '"run_worker_first": ["/api/*", "!/api/docs/*"], "html_handling": "drop-trailing-slash", '
        '"not_found_handling": "single-page-application"}}',
    )
    assets = config.workers[0].assets  # type: ignore[attr-defined]
    assert (assets.directory, assets.binding, assets.run_worker_first) == (
        tmp_path / "public",
        "ASSETS",
        ("/api/*", "!/api/docs/*"),
    )
    assert (assets.html_handling, assets.not_found_handling) == ("drop-trailing-slash", "single-page-application")


def test_an_assets_only_project_needs_no_main(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    config = load(tmp_path, "wrangler.jsonc", '{"name": "site", "assets": {"directory": "dist"}}')
    assert config.workers[0].script is None  # type: ignore[attr-defined]


def test_kv_yaml_takes_assets_too(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    kv_yaml = "workers:\n  - name: site\n    assets: {directory: static, not_found_handling: 404-page}\n"
    config = load(tmp_path, "kv.yaml", kv_yaml)
    worker = config.workers[0]  # type: ignore[attr-defined]
    assert (worker.script, worker.assets.directory, worker.assets.not_found_handling) == (
        None,
        tmp_path / "static",
        "404-page",
    )


def test_dev_port_and_ip_apply_below_flags_and_environment(tmp_path: Path) -> None:
    text = '{"main": "src/entry.py", "dev": {"port": 9123, "ip": "127.0.0.2"}}'
    config = load(tmp_path, "wrangler.jsonc", text)
    assert (config.port, config.host) == (9123, "127.0.0.2")  # type: ignore[attr-defined]
    assert load_config(tmp_path / "wrangler.jsonc", environ={"WORKERHOST_PORT": "9000"}).port == 9000


def test_the_config_is_found_here_then_in_the_parents_kv_yaml_first(tmp_path: Path) -> None:
    write_files(tmp_path, {"wrangler.toml": "", "a/wrangler.jsonc": "{}", "a/b/c/.keep": ""})
    assert find_config(tmp_path / "a" / "b" / "c") == "../../wrangler.jsonc"
    assert find_config(tmp_path) == "wrangler.toml"
    (tmp_path / "kv.yaml").write_text("")
    assert find_config(tmp_path) == "kv.yaml"
