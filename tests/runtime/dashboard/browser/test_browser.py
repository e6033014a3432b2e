"""Every flow of the dashboard, clicked through in Chromium against a real ``workerhost dev``, with the
results checked through the REST API. Each page is saved as a screenshot (``tests/artifacts/dashboard/``)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DevServer, eventually, write_files

from .conftest import Watched
from .support import FILES, Rest, cli

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_files(tmp_path_factory.mktemp("dashboard") / "project", FILES)


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[DevServer]:
    running = DevServer(project / "kv.yaml", project.parent / "data").start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def rest(server: DevServer) -> Rest:
    return Rest(server)


def open_page(watched: Watched, server: DevServer, hash_: str = "#/") -> None:
    watched.page.goto(f"{server.url}/__workerhost/{hash_}")
    watched.page.wait_for_selector("main h1")


def fresh_namespace(rest: Rest, title: str) -> str:
    return rest.create(f"{title}-{time.monotonic_ns()}")


def test_namespaces_are_listed_created_renamed_and_deleted(watched: Watched, server: DevServer, rest: Rest) -> None:
    page = watched.page
    seeded = fresh_namespace(rest, "counted")
    rest.bulk(seeded, [{"key": f"k{i}", "value": "12345"} for i in range(7)])
    open_page(watched, server)
    row = page.locator(f"tr[data-namespace='{seeded}']")
    row.locator("td.number").first.filter(has_text="7").wait_for()
    assert row.locator("td.number").nth(1).inner_text() == "49 B"  # 7 × (2 + 5)

    page.get_by_label("New namespace title").fill("alpha dashboard")
    page.get_by_role("button", name="Create namespace").click()
    page.get_by_role("link", name="alpha dashboard").wait_for()
    watched.shot("namespaces")
    created = rest.namespaces()["alpha dashboard"]

    page.get_by_role("button", name="Rename alpha dashboard").click()
    page.get_by_label("New title").fill("beta dashboard")
    page.get_by_role("button", name="Rename", exact=True).click()
    page.get_by_role("link", name="beta dashboard").wait_for()
    assert rest.namespaces()["beta dashboard"] == created

    page.get_by_role("button", name="Delete beta dashboard").click()
    dialog = page.get_by_role("dialog")
    assert "every key in it" in dialog.inner_text()
    watched.shot("namespace-delete-confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    assert "beta dashboard" in rest.namespaces()
    page.get_by_role("button", name="Delete beta dashboard").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete namespace").click()
    page.get_by_role("link", name="beta dashboard").wait_for(state="detached")
    assert "beta dashboard" not in rest.namespaces()
    assert watched.errors == [] and watched.dialogs == []


def test_keys_are_browsed_by_prefix_fifty_at_a_time_and_deleted_in_bulk(
    watched: Watched, server: DevServer, rest: Rest
) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "keys")
    rest.bulk(namespace, [{"key": f"a:{i:03d}", "value": "v"} for i in range(60)])
    rest.bulk(namespace, [{"key": f"b:{i:03d}", "value": "v", "metadata": {"n": i}} for i in range(60)])
    rest.put(namespace, "b:expiring", b"v", expiration_ttl=3600)
    open_page(watched, server, f"#/ns/{namespace}")
    rows = page.locator("table.keys tbody tr")
    page.get_by_text("50 keys shown; more to load.").wait_for()
    page.get_by_role("button", name="Load more").click()
    page.get_by_text("100 keys shown; more to load.").wait_for()
    page.get_by_role("button", name="Load more").click()
    page.get_by_text("121 keys shown.").wait_for()
    assert page.get_by_role("button", name="Load more").is_hidden()

    page.get_by_label("Key prefix").fill("b:")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("50 keys starting with “b:” shown; more to load.").wait_for()
    assert rows.first.get_by_role("link").inner_text() == "b:000"
    assert rows.first.locator("code.metadata").inner_text() == '{"n":0}'
    watched.shot("keys")

    for key in ("b:001", "b:002", "b:003"):
        page.get_by_label(f"Select {key}", exact=True).check()
    page.get_by_role("button", name="Delete selected (3)").click()
    dialog = page.get_by_role("dialog")
    assert [item.inner_text() for item in dialog.locator("li").all()] == ["b:001", "b:002", "b:003"]
    watched.shot("keys-bulk-delete-confirmation")
    dialog.get_by_role("button", name="Delete keys").click()
    page.get_by_text("50 keys starting with “b:” shown; more to load.").wait_for()
    names = {key["name"] for key in rest.keys(namespace)}
    assert len(names) == 118 and not names & {"b:001", "b:002", "b:003"}

    page.get_by_role("button", name="Delete b:000").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete key").click()
    eventually(lambda: "b:000" not in {key["name"] for key in rest.keys(namespace)}, what="b:000 deleted")
    assert watched.errors == []


def test_values_show_as_text_json_or_hex_with_their_metadata_and_expiration(
    watched: Watched, server: DevServer, rest: Rest
) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "values")
    rest.put(namespace, "note", "héllo\nwörld".encode(), metadata={"by": "me"}, expiration_ttl=7200)
    rest.put(namespace, "config", b'{"a":1,"b":[true,null]}')
    binary = bytes(range(256)) * 4
    rest.put(namespace, "logo.png", binary)

    open_page(watched, server, f"#/ns/{namespace}/key/note")
    assert page.locator("pre.value").inner_text() == "héllo\nwörld"
    facts = page.locator("dl.facts").inner_text()
    assert "Text (UTF-8)" in facts and '"by": "me"' in facts and re.search(r"in (2 h|120 min)", facts)
    watched.shot("value-text")

    open_page(watched, server, f"#/ns/{namespace}/key/config")
    assert page.locator("pre.value").inner_text() == json.dumps({"a": 1, "b": [True, None]}, indent=2)
    watched.shot("value-json")

    open_page(watched, server, f"#/ns/{namespace}/key/logo.png")
    hex_view = page.locator("pre.hex").inner_text()
    assert hex_view.startswith("00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  ................")
    assert "00000040  40 41 42 43" in hex_view and "@ABCDEFGHIJKLMNO" in hex_view
    watched.shot("value-binary")
    with page.expect_download() as downloading:
        page.get_by_role("button", name=re.compile(r"^Download")).click()
    assert Path(downloading.value.path()).read_bytes() == binary
    assert downloading.value.suggested_filename == "logo.png"
    assert watched.errors == []


def test_a_25_mib_value_shows_a_preview_and_downloads_whole(watched: Watched, server: DevServer, rest: Rest) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "large")
    large = (b"0123456789abcdef" * (MIB // 16)) * 25
    assert rest.put(namespace, "large.txt", large).status_code == 200
    open_page(watched, server, f"#/ns/{namespace}/key/large.txt")
    page.get_by_text("Showing the first 64 KiB of 25 MiB. Download it for the whole value.").wait_for()
    assert len(page.locator("pre.value").inner_text()) == 64 * 1024
    watched.shot("value-large")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download (25 MiB)").click()
    assert Path(downloading.value.path()).read_bytes() == large
    assert watched.errors == []


def test_metadata_and_expiration_are_edited_and_the_value_kept(watched: Watched, server: DevServer, rest: Rest) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "edit")
    binary = os.urandom(100_000)
    rest.put(namespace, "blob", binary, metadata={"old": True})
    open_page(watched, server, f"#/ns/{namespace}/key/blob")
    page.get_by_label("Metadata (JSON, at most 1024 bytes; empty for none)").fill('{"owner": "dashboard", "n": 2}')
    page.get_by_label("After a time (TTL)").check()
    page.get_by_label("Expire after (seconds, at least 60)").fill("3600")
    watched.shot("value-edit")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text('"owner": "dashboard"').first.wait_for()
    listed = rest.keys(namespace)[0]
    assert listed["metadata"] == {"owner": "dashboard", "n": 2}
    assert abs(listed["expiration"] - (time.time() + 3600)) < 120
    assert rest.value(namespace, "blob").content == binary

    page.get_by_label("At a date and time").check()
    page.get_by_label("Expire at (UTC)").fill("2037-01-02T03:04:05")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("2037-01-02 03:04:05 UTC").wait_for()
    assert rest.keys(namespace)[0]["expiration"] == 2114478245

    page.get_by_label("Never").check()
    page.get_by_label("Metadata (JSON, at most 1024 bytes; empty for none)").fill("not json")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "not valid JSON" in page.get_by_role("alert").inner_text()
    page.get_by_label("Metadata (JSON, at most 1024 bytes; empty for none)").fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    eventually(lambda: "expiration" not in rest.keys(namespace)[0], what="the expiration removed")
    assert "metadata" not in rest.keys(namespace)[0] and rest.value(namespace, "blob").content == binary

    page.get_by_label("Text", exact=True).check()
    page.get_by_label("Value (text)").fill("now text")
    page.get_by_label("At a date and time").check()
    page.get_by_label("Expire at (UTC)").fill("2001-01-01T00:00:00")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Invalid expiration of 978307200" in page.get_by_role("alert").inner_text()  # the API's own words
    assert rest.value(namespace, "blob").content == binary
    assert watched.errors == []


def test_a_pair_is_added_with_metadata_and_overwriting_asks_first(
    watched: Watched, server: DevServer, rest: Rest
) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "add")
    open_page(watched, server, f"#/ns/{namespace}")
    page.get_by_role("link", name="Add pair").click()
    page.get_by_label("Key", exact=True).fill("greeting")
    page.get_by_label("Value (text)").fill("hello")
    page.get_by_label("Metadata (JSON, at most 1024 bytes; empty for none)").fill('{"lang": "en"}')
    page.get_by_label("After a time (TTL)").check()
    page.get_by_label("Expire after (seconds, at least 60)").fill("600")
    watched.shot("add-pair")
    page.get_by_role("button", name="Save pair").click()
    page.locator("h1", has_text="greeting").wait_for()
    assert rest.value(namespace, "greeting").content == b"hello"
    listed = rest.keys(namespace)[0]
    assert listed["metadata"] == {"lang": "en"} and abs(listed["expiration"] - (time.time() + 600)) < 120

    page.goto(f"{server.url}/__workerhost/#/ns/{namespace}/new")
    page.get_by_label("Key", exact=True).fill("greeting")
    page.get_by_label("A file").check()
    upload = {"name": "v.bin", "mimeType": "application/octet-stream", "buffer": b"\xff\x00"}
    page.get_by_label("Value (file)").set_input_files(upload)
    page.get_by_role("button", name="Save pair").click()
    dialog = page.get_by_role("dialog")
    assert "already holds this key" in dialog.inner_text()
    watched.shot("add-pair-overwrite-confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    assert rest.value(namespace, "greeting").content == b"hello"
    page.get_by_role("button", name="Save pair").click()
    page.get_by_role("dialog").get_by_role("button", name="Overwrite").click()
    page.locator("pre.hex").wait_for()
    assert rest.value(namespace, "greeting").content == b"\xff\x00"
    assert watched.errors == []


def test_copy_buttons_put_keys_and_values_on_the_clipboard(watched: Watched, server: DevServer, rest: Rest) -> None:
    page = watched.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    namespace = fresh_namespace(rest, "copy")
    rest.put(namespace, "key with ✓", b"the value")
    open_page(watched, server, f"#/ns/{namespace}")
    page.get_by_role("button", name="Copy the key key with ✓").click()
    page.get_by_role("status").filter(has_text="Copied the key.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "key with ✓"
    page.get_by_role("link", name="key with ✓").click()
    page.get_by_role("button", name="Copy value").click()
    eventually(lambda: page.evaluate("navigator.clipboard.readText()") == "the value", what="the value copied")
    open_page(watched, server)
    page.get_by_role("button", name=re.compile("^Copy the id of copy-")).click()
    eventually(lambda: page.evaluate("navigator.clipboard.readText()") == namespace, what="the id copied")


def test_a_namespace_is_exported_and_imported_in_the_clis_format(
    watched: Watched, server: DevServer, rest: Rest, project: Path, tmp_path: Path
) -> None:
    page = watched.page
    source = fresh_namespace(rest, "export")
    rest.put(source, "text", b"hello", metadata={"m": 1})
    rest.put(source, "bin", b"\xff\x00", expiration=int(time.time()) + 3600)
    open_page(watched, server, f"#/ns/{source}")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Export", exact=True).click()
    exported = Path(downloading.value.path()).read_bytes()
    lines = [json.loads(line) for line in exported.splitlines()]
    assert lines[0]["format"] == "workerhost-kv-export" and lines[-1] == {"end": True, "count": 2}
    (tmp_path / "export.jsonl").write_bytes(exported)
    # The CLI reads what the dashboard wrote...
    imported = cli(project, project.parent / "data", "import", "imported-by-cli", str(tmp_path / "export.jsonl"))
    assert imported.returncode == 0
    assert rest.value(rest.namespaces()["imported-by-cli"], "bin").content == b"\xff\x00"
    # ...and the dashboard what the CLI wrote.
    target = fresh_namespace(rest, "import")
    by_cli = cli(project, project.parent / "data", "export", source).stdout
    open_page(watched, server, f"#/ns/{target}")
    upload = {"name": "e.jsonl", "mimeType": "application/x-ndjson", "buffer": by_cli}
    page.locator(f"#import-{target}").set_input_files(upload)
    page.get_by_role("status").filter(has_text="Imported 2 keys").wait_for()
    assert {key["name"]: key.get("metadata") for key in rest.keys(target)} == {"bin": None, "text": {"m": 1}}
    assert rest.value(target, "bin").content == b"\xff\x00"
    watched.shot("namespace-imported")


def test_workers_show_routes_bindings_reload_errors_and_run_crons(
    watched: Watched, server: DevServer, rest: Rest, project: Path
) -> None:
    page = watched.page
    open_page(watched, server, "#/workers")
    section = page.locator("section.worker", has_text="app")
    assert section.locator("ul.routes").inner_text() == "/app/*"
    bindings = section.locator("table").inner_text()
    assert "env.KV" in bindings and "KV namespace" in bindings and "data" in bindings and "env.GREETING" in bindings
    section.get_by_role("button", name="Run app's cron */30 * * * * now").click()
    section.get_by_text("ran: ok").wait_for()
    assert rest.value(rest.namespaces()["data"], "cron-ran").content == b"*/30 * * * *"
    watched.shot("workers")

    script = project / "worker.py"
    good = script.read_text()
    script.write_text(good + "\ndef broken(:\n")
    try:
        eventually(lambda: server.status()["reload"]["error"], what="the reload error")
        page.reload()
        alert = page.get_by_role("alert")
        assert "The last reload failed" in alert.inner_text() and "SyntaxError" in alert.inner_text()
        watched.shot("workers-reload-error")
    finally:
        script.write_text(good)
    eventually(lambda: server.status()["reload"]["error"] is None, what="the fixed reload")
    assert watched.errors == []


def test_the_live_feed_shows_writes_from_handlers_rest_and_the_cli(
    watched: Watched, server: DevServer, rest: Rest, project: Path
) -> None:
    page = watched.page
    data = rest.namespaces()["data"]
    open_page(watched, server, "#/feed")
    page.locator("main[data-feed=connected]").wait_for()
    assert server.client.get("/app/feed").text == "ok"
    rest.put(data, "via rest", b"1")
    assert cli(project, project.parent / "data", "key", "delete", "via rest", "--binding", "KV").returncode == 0
    items = page.locator("ol.feed li")
    items.filter(has_text="CLI").wait_for()
    texts = [item.inner_text() for item in items.all()]
    assert any("worker app" in text and "put from-handler in data" in text for text in texts)
    assert any("REST API" in text and "put via rest in data" in text for text in texts)
    assert "CLI" in texts[0] and "delete via rest in data" in texts[0]  # newest first
    watched.shot("feed")
    assert watched.errors == []


def test_everything_works_from_the_keyboard(watched: Watched, server: DevServer, rest: Rest) -> None:
    page = watched.page
    namespace = fresh_namespace(rest, "keyboard")
    rest.bulk(namespace, [{"key": f"k{i}", "value": "v"} for i in range(3)])
    open_page(watched, server, f"#/ns/{namespace}")
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moves to the new view
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "prefix"
    page.get_by_role("link", name="k0", exact=True).focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == "k1"
    delete = page.get_by_role("button", name="Delete k1")
    delete.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.textContent") == "Cancel"  # the safe choice first
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Delete k1"  # back where it was
    assert len(rest.keys(namespace)) == 3
    # Every control has a name a screen reader can say.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, button, select, textarea, a')].filter(
            (el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim()
        ).map((el) => el.outerHTML)"""
    )
    assert unnamed == []
