"""The admin's pages in a real browser over a real server, with the fake models: a collection
made from a folder under the document root (and ``../`` or an absolute path refused), a
re-index watched live on its progress bar, grants, users disabled in one click (their token
refused at once), the audit trail with its exports and the verified chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from app.audit.tables import AuditEntry
from app.core.settings import IngestSettings
from models.embedder import Vectors
from models.fakes import FakeEmbedder, FakeLLM
from tests.app.web.conftest import (
    LiveServer,
    serious_violations,
    shot,
    sign_in,
    start_server,
    web_settings,
)
from tests.conftest import SMALL_KB, write_kb


class GatedEmbedder(FakeEmbedder):
    """Embeds once ``gate`` is set: the re-index holds still while the test watches it."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.gate.wait(timeout=60)
        return super().embed(texts)


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    write_kb(docs / "support")
    (docs / "support" / "empty.md").write_bytes(b"")  # skipped, with its reason
    write_kb(tmp_path / "private")  # next to the root: never reachable from the pages
    return docs


@pytest.fixture
def server(tmp_path: Path, root: Path, gate: threading.Event) -> Iterator[LiveServer]:
    settings = web_settings(tmp_path).model_copy(update={
        # one file per embedding batch: the job is seen half-way while the gate is shut
        "ingest": IngestSettings(document_roots=[root], batch_chunks=1)})
    for live in start_server(settings, embedder=GatedEmbedder(gate), llm=FakeLLM()):
        live.user("ada", "admin")
        live.services.users.create_team("sales")
        yield live
        gate.set()  # before the server stops: its worker may be waiting on the gate


def test_the_admin_makes_indexes_and_grants_a_collection(server: LiveServer, page: Page,
                                                          gate: threading.Event,
                                                          tmp_path: Path) -> None:
    sign_in(page, server, "ada")
    page.goto(server.url + "/admin")
    expect(page.get_by_role("heading", name="Collections", exact=True)).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "admin-collections")

    # out of the root: refused in words, nothing made
    for folder, reason in (("../private", "outside its document root"),
                           (str(tmp_path / "private"), "not an absolute path")):
        page.get_by_label("Folder inside it").fill(folder)
        page.get_by_label("Name", exact=True).fill("leak")
        page.get_by_role("button", name="Create collection").click()
        expect(page.get_by_role("alert")).to_contain_text(reason)
        expect(page.get_by_label("Folder inside it")).to_have_value(folder)  # kept to fix
        assert "leak" not in server.services.collections.names()
    expect(page.get_by_role("link", name="leak")).to_have_count(0)
    assert serious_violations(page) == []
    shot(page, "admin-collections-refused")

    page.get_by_label("Folder inside it").fill("support")
    page.get_by_label("Name", exact=True).fill("support")
    page.locator("#c-language").select_option("en")
    page.get_by_role("checkbox", name="sales").check()
    page.get_by_role("button", name="Create collection").click()
    page.wait_for_url("**/admin/collections/support")
    assert server.services.access.grants("support")["teams"] == ["sales"]
    expect(page.locator(".facts")).to_contain_text("sales")
    assert serious_violations(page) == []
    shot(page, "admin-collection")

    # the re-index, live: the page polls the job while it runs, then shows the outcome
    page.get_by_role("button", name="Re-index now").click()
    page.wait_for_url("**/admin/jobs/*")
    expect(page.locator("#job[data-live]")).to_have_count(1)
    expect(page.locator("#job-status")).to_have_text("running")
    expect(page.locator("#files-total")).to_have_text(str(len(SMALL_KB)))
    assert page.locator("#files-done").inner_text() != str(len(SMALL_KB))  # not done yet
    expect(page.locator("#runner code")).to_have_text(server.services.jobs.owner)  # which replica
    # a skipped file shows with its reason while the job still runs, not only once it ended
    expect(page.get_by_role("row", name="empty.md")).to_contain_text("empty file")
    expect(page.get_by_text("None so far.")).to_be_hidden()
    # clicking again from the collection finds this job (listed there) rather than a 409 page
    job_url = page.url
    page.go_back()
    page.reload()
    reindexes = page.get_by_role("table", name="Re-indexes")
    expect(reindexes.get_by_role("row").nth(1)).to_contain_text("running")
    expect(reindexes.get_by_role("row").nth(1)).to_contain_text("ada")
    assert serious_violations(page) == []
    shot(page, "admin-collection-reindexes")
    page.get_by_role("button", name="Re-index now").click()
    page.wait_for_url(job_url)
    expect(page.get_by_role("link", name="Refresh")).to_be_visible()  # the script-less way
    assert serious_violations(page) == []
    shot(page, "admin-job-running")
    gate.set()
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=30_000)
    expect(page.locator("#job[data-live]")).to_have_count(0)  # reloaded, polling stopped
    expect(page.locator("#files-done")).to_have_text(str(len(SMALL_KB)))
    expect(page.locator("#files-total")).to_have_text(str(len(SMALL_KB)))
    bar = page.locator("#job-progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(len(SMALL_KB))
    skipped = page.get_by_role("table").filter(has_text="empty.md")
    expect(skipped.get_by_role("row", name="empty.md")).to_contain_text("empty file")
    assert serious_violations(page) == []
    shot(page, "admin-job")

    # the list shows it indexed, and who may read it; then everyone too
    page.get_by_role("link", name="Back to the collection").click()
    page.get_by_role("checkbox", name="Everyone signed in").check()
    page.get_by_role("button", name="Save who may read it").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert server.services.access.grants("support")["everyone"] is True
    page.get_by_role("link", name="Collections", exact=True).click()
    row = page.get_by_role("row", name="support")
    expect(row).to_contain_text("everyone, sales")
    expect(row.locator("td.num").first).to_have_text(str(len(SMALL_KB)))  # documents


def test_the_admin_disables_a_user_and_the_audit_trail_says_so(server: LiveServer,
                                                               page: Page) -> None:
    sign_in(page, server, "ada")
    page.goto(server.url + "/admin/users")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password", exact=True).fill("too short")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 12 characters")
    expect(page.get_by_label("Username")).to_have_value("bob")  # kept to fix
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_role("checkbox", name="sales").check()
    page.get_by_role("button", name="Create user").click()
    users = page.get_by_role("table", name="Users", exact=True)
    row = users.get_by_role("row", name="bob")
    expect(row).to_contain_text("agent")
    expect(row).to_contain_text("sales")
    expect(row).to_contain_text("active")
    page.get_by_label("New team").fill("billing")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("row", name="billing")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, "admin-users")

    page.get_by_role("link", name="bob", exact=True).click()
    page.get_by_label("What is it for?").fill("scripts")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    me = httpx.get(server.url + "/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == "bob"
    assert serious_violations(page) == []
    shot(page, "admin-user")

    page.goto(server.url + "/admin/users")
    page.get_by_role("button", name="Disable bob").click()  # one click
    expect(users.get_by_role("row", name="bob")).to_contain_text("disabled")
    expect(page.get_by_role("button", name="Enable bob")).to_be_visible()
    assert httpx.get(server.url + "/v1/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page.get_by_role("link", name="bob", exact=True).click()
    expect(page.get_by_role("row", name="scripts")).to_contain_text("revoked")

    page.get_by_role("link", name="Audit trail").click()
    table = page.locator("table.audit")
    for action in ("user_created", "team_created", "token_created", "user_changed", "login"):
        expect(table.get_by_text(action, exact=True).first).to_be_visible()
    first = table.locator("tbody tr").first  # newest first: bob disabled
    expect(first).to_contain_text("user_changed")
    expect(first).to_contain_text("bob")
    assert serious_violations(page) == []
    shot(page, "admin-audit")

    page.get_by_role("button", name="Verify the chain").click()
    expect(page.locator("#verdict")).to_contain_text("The chain is intact")

    page.get_by_label("Action", exact=True).fill("user_created")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    csv = page.request.get(server.url + str(page.get_by_role("link", name="CSV")
                                            .get_attribute("href")))
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "user_created" in csv.text() and "user_changed" not in csv.text()
    lines = page.request.get(server.url + str(page.get_by_role("link", name="JSON lines")
                                              .get_attribute("href")))
    assert lines.status == 200 and lines.text().count("\n") == 1

    page.get_by_label("Language", exact=True).select_option("nl")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Auditlog")).to_be_visible()


def test_without_the_script_the_job_page_refreshes_by_link(server: LiveServer,
                                                           browser: Browser,
                                                           gate: threading.Event,
                                                           root: Path) -> None:
    server.services.collections.create_under([root], root, "support", "support", "en")
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + "/admin")
        page.get_by_role("button", name="Re-index support").click()
        page.wait_for_url("**/admin/jobs/*")
        expect(page.locator("#job-status")).not_to_have_text("succeeded")
        gate.set()
        job_id = page.url.rsplit("/", 1)[1]
        for _ in range(300):
            if server.services.jobs.get(job_id).status not in ("queued", "running"):
                break
            page.wait_for_timeout(100)
        page.get_by_role("link", name="Refresh").click()
        expect(page.locator("#job-status")).to_have_text("succeeded")
        expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
        expect(page.locator("#files-done")).to_have_text(str(len(SMALL_KB)))
    finally:
        context.close()


@pytest.fixture
def plain_server(tmp_path: Path) -> Iterator[LiveServer]:
    for live in start_server(web_settings(tmp_path), embedder=FakeEmbedder(), llm=FakeLLM()):
        live.user("ada", "admin")
        live.user("ann", "agent")
        yield live


def test_without_document_roots_web_creation_is_switched_off(plain_server: LiveServer,
                                                             page: Page) -> None:
    sign_in(page, plain_server, "ada")
    page.goto(plain_server.url + "/admin")
    expect(page.get_by_text("Creating collections here is switched off")).to_be_visible()
    expect(page.get_by_role("button", name="Create collection")).to_have_count(0)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    refused = page.request.post(plain_server.url + "/admin/collections", form={
        "csrf_token": csrf, "name": "x", "folder": "", "root": "0"})
    assert refused.status == 422 and "no document roots" in refused.text()
    assert plain_server.services.collections.names() == frozenset()
    assert serious_violations(page) == []
    shot(page, "admin-collections-disabled")


def test_the_admin_pages_are_for_admins_only(plain_server: LiveServer, page: Page) -> None:
    sign_in(page, plain_server, "ann")
    for path in ("/admin", "/admin/users", "/admin/audit", "/admin/users/ada"):
        response = page.goto(plain_server.url + path)
        assert response is not None and response.status == 404, path
    assert page.request.get(plain_server.url + "/v1/admin/jobs/x").status == 403
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    assert page.request.post(plain_server.url + "/admin/users/ada/active", form={
        "csrf_token": csrf, "active": "false"}).status == 404
    assert plain_server.services.users.get("ada").active


def test_the_audit_trail_pages_newest_first_and_says_when_it_was_changed(
        plain_server: LiveServer, page: Page) -> None:
    audit = plain_server.services.audit
    for n in range(60):
        audit.record("ops", "note", f"entry-{n:02d}")
    sign_in(page, plain_server, "ada")
    page.goto(plain_server.url + "/admin/audit?actor=ops")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("entry-59")
    expect(page.get_by_text("Page 1 of 2 (60 entries)")).to_be_visible()
    page.get_by_role("link", name="Older").click()
    expect(rows).to_have_count(10)
    expect(rows.last).to_contain_text("entry-00")
    expect(page.get_by_label("Who")).to_have_value("ops")  # the filter stays on every page

    with plain_server.services.sessions() as session:  # someone edits the trail behind its back
        session.execute(update(AuditEntry).where(AuditEntry.target == "entry-10")
                        .values(actor="mallory"))
        session.commit()
    page.get_by_role("button", name="Verify the chain").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_attribute("role", "alert")
    expect(verdict).to_contain_text("The chain is broken at entry")
    expect(verdict).to_contain_text("was changed after it was written")
    assert serious_violations(page) == []
    shot(page, "admin-audit-broken")

    page.goto(plain_server.url + "/admin/audit?since=yesterday")
    expect(page.get_by_role("alert")).to_contain_text("is not a time")
