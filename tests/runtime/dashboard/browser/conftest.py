"""A real browser for the dashboard's tests: Debian's Chromium driven by Playwright, one per run of this package.

Playwright installs no browser of its own here: it drives ``/usr/bin/chromium`` (``.ci/run`` installs
it with apt). Without it, or without Playwright, the browser tests fail in CI (``CI=true``) and are
skipped, with the reason shown, elsewhere. Each test gets a fresh browser context (its own storage)
and a page that records script errors, console errors and dialogs, so a test can assert none came.
Screenshots go to ``tests/artifacts/dashboard/`` (README "Dashboard").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import unavailable

CHROMIUM = Path(os.environ.get("WORKERHOST_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "dashboard"


def _unavailable(reason: str) -> None:
    unavailable(f"the dashboard's browser tests need Chromium and Playwright: {reason}")


# Package scope, not session: between its sync calls Playwright leaves its event loop marked as running
# in the main thread, so every anyio test the same process ran after it failed ("Cannot run the event
# loop while another loop is running"). Ending it when the package's tests are done (xdist hands a
# worker the tests of one module in a row) keeps one launch per worker in practice.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"{exc} (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watched:
    """A page and what it did that no page of ours should: script errors, console errors, dialogs."""

    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a screenshot of the page as ``tests/artifacts/dashboard/<name>.png``.

        Of the viewport, not the whole page: after a full-page capture, headless Chromium was seen to
        drop the next click.
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def watched(browser: Any, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    seen = Watched(page)
    page.on("pageerror", lambda error: seen.errors.append(f"pageerror: {error}"))

    def on_console(message: Any) -> None:
        # A refused request (a 401 before signing in, a 404 the page expects) is the page's business.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen.errors.append(f"console: {message.text}")

    page.on("console", on_console)

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield seen
        if request.node.stash.get(_FAILED, False):  # what the page showed when the test failed
            seen.shot(f"failed-{request.node.name}")
            print("\n".join(["page text:", page.inner_text("body"), *seen.errors]))
    finally:
        context.close()
