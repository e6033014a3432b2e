"""Miniflare 4 as a peer: ``worker.mjs`` with a persisted KV binding, served by Miniflare's own API.

``cf: false`` keeps Miniflare from fetching request metadata from the internet (it would fall back
after a timeout anyway); nothing else in it needs the network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..procs import Server
from ..tools import NodeTools
from . import WORKER_JS

__all__ = ["server"]

_RUNNER = """\
import { Miniflare } from "miniflare";

const [port, persist] = process.argv.slice(2);
const mf = new Miniflare({
  modules: true,
  scriptPath: "worker.mjs",
  compatibilityDate: "2025-04-01",
  kvNamespaces: ["KV"],
  kvPersist: persist,
  host: "127.0.0.1",
  port: Number(port),
  cf: false,
});
await mf.ready;
console.log("ready");
const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
"""


def server(tools: NodeTools, port: int, scratch: Path, logs: Path) -> Server:
    """Miniflare serving ``worker.mjs`` on ``port`` with KV persisted under ``scratch``, not yet started."""
    project = tools.projects / f"miniflare-{port}"
    project.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WORKER_JS, project / "worker.mjs")
    (project / "run.mjs").write_text(_RUNNER, encoding="utf-8")
    command = ["node", "run.mjs", str(port), str(scratch / "miniflare-kv")]
    return Server("miniflare", command, f"http://127.0.0.1:{port}/hello", logs, cwd=project)
