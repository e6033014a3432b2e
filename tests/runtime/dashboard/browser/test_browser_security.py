"""The dashboard in Chromium with API tokens (a sign-in, a read-only view for a read token, writes refused by
the API itself) and with hostile data: keys, values, metadata and titles holding HTML and script run nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import DevServer, write_files

from .conftest import Watched
from .support import FILES, NAMESPACES, Rest

WRITE, READ = "dashboard-write-token-1234", "dashboard-read-token-5678"
# Each would set window.__xss (or open a dialog) if the page ever treated data as markup or code.
PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    '<img src=x onerror="window.__xss = \'img\'">',
    "javascript:window.__xss = 'url'",
    '"><svg onload="window.__xss = \'svg\'">',
    "<iframe srcdoc=\"<script>parent.__xss = 'frame'</script>\"></iframe>",
    "{{constructor.constructor('window.__xss = 1')()}}",
    "<a href=\"javascript:alert('xss')\">click</a>",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_files(tmp_path_factory.mktemp("dashboard-security") / "project", FILES)


@pytest.fixture(scope="module")
def tokened(project: Path) -> Iterator[DevServer]:
    env = {"WORKERHOST_API_TOKENS": WRITE, "WORKERHOST_API_READ_TOKENS": READ}
    running = DevServer(project / "kv.yaml", project.parent / "tokened", env=env).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def open_server(project: Path) -> Iterator[DevServer]:
    running = DevServer(project / "kv.yaml", project.parent / "open").start()
    try:
        yield running
    finally:
        running.stop()


def sign_in(watched: Watched, server: DevServer, token: str) -> None:
    page = watched.page
    page.goto(f"{server.url}/__workerhost/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Namespaces").wait_for()


def test_the_page_asks_for_a_token_and_refuses_a_wrong_one(watched: Watched, tokened: DevServer) -> None:
    page = watched.page
    page.goto(f"{tokened.url}/__workerhost/")
    page.get_by_role("heading", name="Sign in").wait_for()
    watched.shot("sign-in")
    page.get_by_label("API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    assert "That token was refused" in page.get_by_role("alert").inner_text()
    assert page.evaluate("sessionStorage.length") == 0  # a refused token is not kept
    sign_in(watched, tokened, WRITE)
    assert page.locator("#access").inner_text() == "read and write"
    assert page.evaluate("sessionStorage.getItem('workerhost.token')") == WRITE
    assert WRITE not in page.url  # never in an address
    page.reload()
    page.get_by_role("heading", name="Namespaces").wait_for()  # kept for the tab
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    assert watched.errors == []


def test_a_read_token_gets_a_dashboard_without_write_controls(watched: Watched, tokened: DevServer) -> None:
    page = watched.page
    rest = Rest(tokened, WRITE)
    namespace = rest.create(f"readonly-{time.monotonic_ns()}")
    rest.put(namespace, "k", b"v", metadata={"m": 1})
    sign_in(watched, tokened, READ)
    assert page.locator("#access").inner_text() == "read only"
    write_controls = "button.danger, form.editor, #new-namespace, [id^=import-], button:has-text('Rename')"
    page.locator(f"tr[data-namespace='{namespace}']").wait_for()
    assert page.locator(write_controls).count() == 0
    watched.shot("read-only-namespaces")
    page.goto(f"{tokened.url}/__workerhost/#/ns/{namespace}")
    page.get_by_role("link", name="k", exact=True).wait_for()
    assert page.locator(write_controls).count() == 0
    assert page.get_by_role("link", name="Add pair").count() == 0
    assert page.locator("input[type=checkbox]").count() == 0
    page.get_by_role("link", name="k", exact=True).click()
    page.locator("pre.value").wait_for()
    assert page.locator(write_controls).count() == 0
    watched.shot("read-only-value")
    page.goto(f"{tokened.url}/__workerhost/#/workers")
    page.get_by_role("heading", name="app").wait_for()
    assert page.get_by_role("button", name="Run now").count() == 0
    # Hidden is not the only defence: the same requests with the page's token are refused by the API.
    refused = page.evaluate(
        """async ([url]) => {
            const token = sessionStorage.getItem('workerhost.token');
            const headers = {Authorization: `Bearer ${token}`};
            const put = await fetch(url + '/values/k', {method: 'PUT', body: 'changed', headers});
            const cron = await fetch('/__workerhost/scheduled?worker=app', {method: 'POST', headers});
            const imported = await fetch(`/__workerhost/api/namespaces/${url.split('/').pop()}/import`,
                                         {method: 'POST', body: '', headers});
            return [put.status, cron.status, imported.status];
        }""",
        [f"{NAMESPACES}/{namespace}"],
    )
    assert refused == [403, 403, 403]
    assert rest.value(namespace, "k").content == b"v"


def test_hostile_keys_values_metadata_and_titles_are_shown_as_text_and_run_nothing(
    watched: Watched, open_server: DevServer
) -> None:
    page = watched.page
    rest = Rest(open_server)
    title = PAYLOADS[1] + f" {time.monotonic_ns()}"
    namespace = rest.create(title)
    for number, payload in enumerate(PAYLOADS):
        metadata = {"note": payload, "html": PAYLOADS[(number + 1) % len(PAYLOADS)]}
        assert rest.put(namespace, f"{payload} #{number}", payload.encode(), metadata=metadata).status_code == 200
    rest.put(namespace, "json", json.dumps({"x": PAYLOADS}).encode())
    page.add_init_script("window.__xss = undefined")

    page.goto(f"{open_server.url}/__workerhost/#/feed")
    page.locator("main[data-feed=connected]").wait_for()
    rest.put(namespace, PAYLOADS[0], b"feed")  # a hostile key and title in the live feed too
    rest.client.put(f"{NAMESPACES}/{namespace}", json={"title": PAYLOADS[3]})
    page.locator("ol.feed li").nth(1).wait_for()
    assert PAYLOADS[3] in page.locator("ol.feed").inner_text()
    watched.shot("xss-feed")
    rest.client.put(f"{NAMESPACES}/{namespace}", json={"title": title})

    page.goto(f"{open_server.url}/__workerhost/#/")
    page.get_by_role("link", name=title).wait_for()
    watched.shot("xss-namespaces")
    page.get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title).wait_for()
    page.locator("table.keys tbody tr").nth(len(PAYLOADS)).wait_for()
    shown = page.locator("table.keys").inner_text()
    for number, payload in enumerate(PAYLOADS):
        assert f"{payload} #{number}" in shown  # the exact text, not markup
    watched.shot("xss-keys")
    for number, payload in enumerate(PAYLOADS):
        page.goto(f"{open_server.url}/__workerhost/#/ns/{namespace}/key/{quote(f'{payload} #{number}', safe='')}")
        page.locator("pre.value").wait_for()
        assert page.locator("pre.value").inner_text() == payload
        assert json.dumps(payload) in page.locator("dl.facts").inner_text()  # metadata, as JSON
        page.get_by_role("button", name="Delete", exact=True).click()  # a dialog quoting the key
        assert f"{payload} #{number}" in page.get_by_role("dialog").inner_text()
        page.keyboard.press("Escape")
    watched.shot("xss-value")
    page.goto(f"{open_server.url}/__workerhost/#/ns/{namespace}/key/json")
    assert json.loads(page.locator("pre.value").inner_text()) == {"x": PAYLOADS}

    assert page.evaluate("window.__xss") is None
    assert page.locator("main script, main img, main svg, main iframe").count() == 0
    assert watched.dialogs == []
    assert watched.errors == []  # no blocked script either: nothing was ever parsed as HTML


def test_a_page_that_tried_to_parse_data_as_html_would_be_stopped(watched: Watched, open_server: DevServer) -> None:
    # The policy's backstop, shown: innerHTML with a string throws on the dashboard's own page.
    page = watched.page
    page.goto(f"{open_server.url}/__workerhost/")
    page.get_by_role("heading", name="Namespaces").wait_for()
    outcome = page.evaluate(
        """() => { try { document.body.innerHTML = '<img src=x onerror="window.__xss=1">'; return 'parsed'; }
                   catch (error) { return error.name; } }"""
    )
    assert outcome == "TypeError" and page.evaluate("window.__xss") is None
