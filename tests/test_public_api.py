from __future__ import annotations

import runtime
import runtime.handlers.workers


def test_runtime_all_lists_exactly_its_public_names() -> None:
    assert runtime.__all__ == sorted(runtime.__all__)
    for name in runtime.__all__:
        assert getattr(runtime, name) is not None
    assert set(runtime.__all__) <= set(dir(runtime))


def test_the_workers_module_has_what_cloudflare_scripts_import() -> None:
    assert {"Response", "WorkerEntrypoint"} <= set(runtime.handlers.workers.__all__)
