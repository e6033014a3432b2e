"""Fuzz the REST API with schemathesis, against the OpenAPI document the real host serves.

    python -m tests.reliability.fuzz --requests 5000

It starts ``workerhost dev`` with API tokens set (every request is authenticated; the ``ignored_auth``
check also sends requests without valid credentials), seeds two namespaces with keys, and runs the
schemathesis CLI on ``/client/v4/openapi.json`` until ``--requests`` requests have been sent, seed after
seed. Path parameters name the seeded namespaces and keys most of the time, so requests reach the KV
logic, and are generated otherwise; DELETE of a namespace runs apart, on namespaces made for it. Each
seed also fuzzes the dev routes (``/__workerhost/status``, the scheduled runs with any ``worker``,
``cron`` and ``time``) from ``DEV_ROUTES``, a document of them written here: no server error, and only
the statuses it lists.

Checks: ``not_a_server_error``, ``response_schema_conformance``, ``status_code_conformance``,
``content_type_conformance``, ``negative_data_rejection``, ``ignored_auth`` and
``positive_data_acceptance``, the last two with KV's statuses added (see ``ACCEPTED``, ``REJECTED``).

The figures (requests, statuses, failures, server errors in the host's own log) come from
schemathesis' HAR report and the host's request log. Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from runtime.config import DEFAULT_ACCOUNT_ID

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fuzz-write-token-8d41c0"
READ_TOKEN = "fuzz-read-token-27b9e3"
NAMESPACES = f"/client/v4/accounts/{DEFAULT_ACCOUNT_ID}/storage/kv/namespaces"
CHECKS = (
    "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,"
    "negative_data_rejection,ignored_auth,positive_data_acceptance"
)
DEV_CHECKS = "not_a_server_error,status_code_conformance,ignored_auth"
DELETE_NAMESPACE = "workers-kv-namespace-remove-a-namespace"
KEYS = ["seed/0", "seed/1", "café au lait", "a%2Fb", "emoji 😀", "x" * 300]
DOOMED = 4  # namespaces that DELETE may remove
# Valid data by the schema may still be refused with 400 / 413 / 414 for what no schema can say: a
# title that is taken (Cloudflare's 10014), a key of 600 bytes in fewer characters, a past expiration.
ACCEPTED = ["2xx", "400", "401", "403", "404", "413", "414"]
# Invalid data is refused with KV's own statuses too: 413 for metadata or values over their limits,
# 414 for a key over 512 bytes (schemathesis' default list has neither).
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429"]
KV_YAML = """
    kv_namespaces:
      - title: fuzz-a
      - title: fuzz-b
    workers:
      - name: ticker
        script: ticker.py
        routes: ["/ticker"]
        kv_namespaces: [{binding: KV, namespace: fuzz-b}]
        triggers: {crons: ["0 0 * * *"]}
"""
TICKER = """
    async def fetch(request, env, ctx):
        from runtime import Response
        return Response("tick")


    async def scheduled(controller, env, ctx):
        await env.KV.put("last-cron", f"{controller.cron} at {controller.scheduledTime}")
"""


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}}


_RUN = {
    "parameters": [_query("worker"), _query("cron"), _query("time")],
    "responses": {str(status): {"description": "-"} for status in (200, 400, 401, 403)},
}
# The dev routes as a schemathesis document (the host serves none for them).
DEV_ROUTES = {
    "openapi": "3.0.3",
    "info": {"title": "workerhost dev routes", "version": "1"},
    "components": {  # as the REST API's document has them: a Bearer token, or X-Auth-Email + X-Auth-Key
        "securitySchemes": {
            "api_token": {"type": "http", "scheme": "bearer"},
            "api_email": {"type": "apiKey", "in": "header", "name": "X-Auth-Email"},
            "api_key": {"type": "apiKey", "in": "header", "name": "X-Auth-Key"},
        }
    },
    "security": [{"api_token": []}, {"api_email": [], "api_key": []}],
    "paths": {
        "/__workerhost/status": {"get": {"responses": {"200": {"description": "-"}, "401": {"description": "-"}}}},
        "/__workerhost/scheduled": {"get": _RUN, "post": _RUN},
        "/__scheduled": {"get": _RUN, "post": _RUN},
    },
}


@dataclass
class Fuzzing:
    """Figures of a fuzzing run; ``failures`` and ``server_errors`` must be empty."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # checks that failed, as schemathesis reports them
    server_errors: list[str] = field(default_factory=list)  # 5xx lines and errors in the host's log
    runs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.requests > 0 and not self.failures and not self.server_errors

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(self.statuses.items()))
        return (
            f"schemathesis: {self.requests:,} requests in {self.runs} runs ({self.seconds:.0f} s)\n"
            f"  statuses: {statuses}\n"
            f"  check failures: {len(self.failures)}; server errors: {len(self.server_errors)}"
        )


class FuzzHost:
    """``workerhost dev`` with API tokens, seeded with namespaces and keys."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        (workdir / "project").mkdir(parents=True, exist_ok=True)
        (workdir / "project" / "kv.yaml").write_text(textwrap.dedent(KV_YAML).lstrip(), encoding="utf-8")
        (workdir / "project" / "ticker.py").write_text(textwrap.dedent(TICKER).lstrip(), encoding="utf-8")
        self.log = workdir / "host.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> FuzzHost:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "runtime", "dev", "--config", str(self.workdir / "project" / "kv.yaml")]
        command += ["--port", str(port), "--persist-to", str(self.workdir / "data"), "--no-reload"]
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "WORKERHOST_API_TOKENS": TOKEN,
            "WORKERHOST_API_READ_TOKENS": READ_TOKEN,
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        self._wait()
        return self

    def _wait(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the host exited with {self.process.returncode}; see {self.log}")
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(f"{self.url}/__workerhost/status", headers=self._auth(), timeout=5)
                if status.status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the host did not answer within 60 s; see {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def seed(self) -> list[str]:
        """Put the keys in both declared namespaces; returns their ids."""
        with self._http() as http:
            kept = [ns["id"] for ns in http.get(NAMESPACES).json()["result"]]
            for namespace_id in kept:
                for key in KEYS:
                    url = f"{NAMESPACES}/{namespace_id}/values/{quote(key, safe='')}"
                    assert http.put(url, content=b"seeded", params={"expiration_ttl": "86400"}).status_code == 200
        return kept

    def doomed(self, seed: int) -> list[str]:
        """Fresh namespaces for DELETE to remove; returns their ids."""
        with self._http() as http:
            return [
                http.post(NAMESPACES, json={"title": f"doomed {seed}.{n}"}).json()["result"]["id"]
                for n in range(DOOMED)
            ]

    def _http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self._auth(), timeout=60)

    @staticmethod
    def _auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def errors_in_log(self) -> list[str]:
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [line for line in lines if line.startswith("[error]") or " 500 " in line or " 502 " in line]


def config_file(path: Path, namespace_ids: list[str]) -> Path:
    """schemathesis.toml: credentials, namespace ids and keys to use, and what counts as accepting valid data."""
    values = functools.partial(json.dumps, ensure_ascii=False)
    path.write_text(
        textwrap.dedent(
            f"""
            headers = {{ Authorization = "Bearer {TOKEN}", X-Auth-Email = "fuzz@example.com", X-Auth-Key = "{TOKEN}" }}

            [dictionaries.namespaces]
            values = {values(namespace_ids)}

            [dictionaries.keys]
            values = {values(KEYS)}

            [parameters]
            "path.namespace_id" = {{ dictionary = "namespaces", probability = 0.8 }}
            "path.key_name" = {{ dictionary = "keys", probability = 0.5 }}

            [checks]
            positive_data_acceptance = {{ expected-statuses = {values(ACCEPTED)} }}
            negative_data_rejection = {{ expected-statuses = {values(REJECTED)} }}
            """
        ).lstrip(),
        encoding="utf-8",
    )
    return path


def run_schemathesis(
    url: str,
    config: Path,
    max_examples: int,
    seed: int,
    report_dir: Path,
    operations: tuple[str, ...],
    schema: Path | None = None,
    checks: str = CHECKS,
) -> tuple[list[dict[str, Any]], list[str]]:
    """One schemathesis run; returns the HAR entries (one per request sent) and the failures it reports.

    Args:
        operations: a schemathesis filter option and its value, e.g. ``("--exclude-operation-id", DELETE_NAMESPACE)``.
        schema: a document file to fuzz at ``url``; by default the OpenAPI document the host serves.
    """
    report_dir.mkdir()
    where = [f"{url}/client/v4/openapi.json"] if schema is None else [str(schema), "--url", url]
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", *where,
        "--checks", checks, "--max-examples", str(max_examples), "--seed", str(seed), "--workers", "2",
        "--report", "har,json", "--report-dir", str(report_dir), "--no-color", *operations,
    ]  # fmt: skip
    ran = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=report_dir)
    (report_dir / "output.txt").write_text(ran.stdout + ran.stderr, encoding="utf-8")
    if not list(report_dir.glob("har-*.json")):
        raise RuntimeError(
            f"schemathesis wrote no report (exit {ran.returncode}):\n{ran.stdout[-3000:]}{ran.stderr[-3000:]}"
        )
    har = json.loads(next(report_dir.glob("har-*.json")).read_text(encoding="utf-8"))
    report = json.loads(next(report_dir.glob("json-*.json")).read_text(encoding="utf-8"))
    failures = [json.dumps(failure)[:500] for failure in report.get("failures", [])]
    failures += [json.dumps(error)[:500] for error in report.get("errors", [])]
    if failures:  # schemathesis' own account of them, with the requests that reproduce them
        failures.append(f"schemathesis output ({report_dir / 'output.txt'}):\n{ran.stdout[-4000:]}")
    return har["log"]["entries"], failures


def run_fuzz(
    requests: int,
    *,
    max_examples: int = 100,
    seed: int = 1,
    workdir: Path | None = None,
    report: Callable[[str], None] = print,
) -> Fuzzing:
    """Fuzz a fresh host until ``requests`` requests have been sent; one schemathesis run per seed."""
    result = Fuzzing()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="workerhost-fuzz-")))
        host = stack.enter_context(FuzzHost(workdir))
        config = config_file(workdir / "schemathesis.toml", host.seed())
        while result.requests < requests:
            _fuzz_seed(host, config, max_examples, seed, result)
            report(f"seed {seed}: {result.requests:,} requests so far, {len(result.failures)} failures")
            if result.failures:
                break
            seed += 1
        result.server_errors = host.errors_in_log()
    result.seconds = time.monotonic() - started
    return result


def _fuzz_seed(host: FuzzHost, config: Path, max_examples: int, seed: int, result: Fuzzing) -> None:
    """The runs of one seed: every operation but DELETE of a namespace, then that one on namespaces of its own
    (the seeded ones must stay, or the other operations would only ever meet a 404)."""
    doomed = config_file(host.workdir / f"doomed-{seed}.toml", host.doomed(seed))
    dev = host.workdir / "devroutes.json"
    dev.write_text(json.dumps(DEV_ROUTES), encoding="utf-8")
    passes: list[tuple[str, Path, tuple[str, ...], Path | None, str]] = [
        ("run", config, ("--exclude-operation-id", DELETE_NAMESPACE), None, CHECKS),
        ("delete", doomed, ("--include-operation-id", DELETE_NAMESPACE), None, CHECKS),
        ("dev", config, (), dev, DEV_CHECKS),
    ]
    for name, pass_config, operations, schema, checks in passes:
        report_dir = host.workdir / f"{name}-{seed}"
        entries, failures = run_schemathesis(
            host.url, pass_config, max_examples, seed, report_dir, operations, schema, checks
        )
        result.runs += 1
        result.requests += len(entries)
        result.statuses.update(entry["response"]["status"] for entry in entries)
        result.failures += failures
        if not entries:
            result.failures.append(f"seed {seed}: schemathesis sent no request; see {report_dir}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests to send at least (default 5000)")
    parser.add_argument("--max-examples", type=int, default=100, help="test cases per operation and phase, per run")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (each next run adds one)")
    parser.add_argument("--dir", type=Path, help="work directory to keep, with the reports (default: temporary)")
    args = parser.parse_args(argv)
    result = run_fuzz(args.requests, max_examples=args.max_examples, seed=args.seed, workdir=args.dir)
    print(result.summary())
    for problem in (result.failures + result.server_errors)[:20]:
        print(f"  PROBLEM: {problem}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
