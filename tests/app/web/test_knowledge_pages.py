"""The closed loop in Chromium: the admin names an owner on the collection page, an agent's
thumbs-down shows on the owner's knowledge page, the fixed file's re-index shows on the
issue, the owner resolves it, and the agent reads the notification and asks again with the
question filled in. Someone who owns nothing sees only their own reports, and the issue page
is a 404 for them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.core.principal import Principal
from app.feedback.records import GivenFeedback
from tests.app.web.conftest import (
    LiveServer,
    agent_server,
    serious_violations,
    shot,
    sign_in,
)

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
QUESTION = "What does VPN error NWL-VPN-809 mean?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    for live in agent_server(tmp_path, REPLY):
        live.user("olga", "agent")
        live.user("root", "admin")
        live.user("bob", "agent")
        live.services.users.create_team("printing")
        yield live


def _thumbs_down(server: LiveServer) -> str:
    s = server.services
    ann = s.identity.as_user("ann")
    answer = s.answers.answer(QUESTION, ["kb"], allowed={"kb"}, asker=ann)
    s.feedback.give(answer.answer_id, ann, GivenFeedback(
        vote="down", reasons=("outdated_source",), comment="The code was renamed."),
        readable={"kb"})
    [issue] = s.issues.listing(Principal.operator(), readable={"kb"})
    return issue.issue_id


def _reindexed(server: LiveServer, tmp_path: Path) -> None:
    (tmp_path / "kb" / "vpn.md").write_text(
        "# VPN guide\n\n## Error codes\n\nVPN error NWL-VPN-809 means the VPN profile is "
        "outdated. Reinstall the profile.\n")
    jobs = server.services.jobs
    job = jobs.start_reindex("kb", actor="root")
    deadline = time.monotonic() + 30
    while jobs.get(job.id).status in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _fresh(browser: Browser) -> Page:
    return browser.new_context(locale="en-GB").new_page()


def test_the_admin_names_owners_on_the_collection_page(server: LiveServer, page: Page) -> None:
    sign_in(page, server, "root")
    page.goto(server.url + "/admin/collections/kb")
    owners = page.get_by_role("region", name="Knowledge owners")
    expect(owners).to_contain_text("Nobody owns this collection yet.")
    owners.get_by_label("New owner").select_option("user:olga")
    owners.get_by_role("button", name="Add owner").click()
    owners = page.get_by_role("region", name="Knowledge owners")
    expect(owners.get_by_role("status")).to_have_text("Owners saved.")
    owners.get_by_label("New owner").select_option("team:printing")
    owners.get_by_label("Folder (empty: the whole collection)").fill("printing")
    owners.get_by_role("button", name="Add owner").click()
    rows = page.get_by_role("region", name="Knowledge owners").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("the whole collection")
    expect(rows.nth(1)).to_contain_text("team printing")
    assert serious_violations(page) == []
    shot(page, "admin-collection-owners")
    assert [(o.folder, o.name) for o in server.services.owners.of("kb")] == [
        ("", "olga"), ("printing", "printing")]
    page.get_by_role("button", name="Remove owner printing").click()
    expect(page.get_by_role("region", name="Knowledge owners").locator("tbody tr")
           ).to_have_count(1)
    assert [o.name for o in server.services.owners.of("kb")] == ["olga"]


def test_the_owner_resolves_and_the_giver_is_told_and_asks_again(
        server: LiveServer, page: Page, browser: Browser, tmp_path: Path) -> None:
    server.services.owners.add("kb", Principal.operator(), user="olga")
    issue_id = _thumbs_down(server)
    sign_in(page, server, "olga")
    page.get_by_role("link", name="Knowledge", exact=True).click()
    issues = page.get_by_role("region", name="Knowledge issues")
    row = issues.get_by_role("article").filter(has_text=QUESTION)
    expect(row).to_contain_text("vpn.md")
    expect(row).to_contain_text("olga")
    expect(row).to_contain_text("1 report")
    expect(row).to_contain_text("The code was renamed.")
    assert serious_violations(page) == []
    shot(page, "knowledge-issues")
    _reindexed(server, tmp_path)
    row.get_by_role("link", name=QUESTION).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Knowledge issue Open")
    expect(page.get_by_role("region", name="Reports")).to_contain_text(
        "The code was renamed.")
    expect(page.get_by_role("region", name="Reports")).to_contain_text("Outdated source")
    expect(page.get_by_role("region", name="Cited documents").locator(".reindexes")
           ).to_contain_text("vpn.md changed")
    resolution = page.get_by_role("region", name="Resolution")
    # a reason of blanks is refused in words, the form kept
    resolution.get_by_label("Reason (the reporters read it)").fill("   ")
    resolution.get_by_role("button", name="Resolve").click()
    resolution = page.get_by_role("region", name="Resolution")
    expect(resolution.get_by_role("alert")).to_have_text(
        "say what was done, or why the answer stands")
    resolution.get_by_label("The document was changed (and re-indexed)").check()
    resolution.get_by_label("Reason (the reporters read it)").fill(
        "Rewrote the error code section.")
    assert serious_violations(page) == []
    shot(page, "knowledge-issue")
    resolution.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text(
        "Resolved. Everyone who reported it has been told.")
    expect(page.get_by_role("region", name="Resolution")).to_contain_text(
        "Rewrote the error code section.")
    assert server.services.issues.get(issue_id, Principal.operator(),
                                      readable={"kb"}).state == "resolved"
    # the giver, in their own browser
    ann = _fresh(browser)
    sign_in(ann, server, "ann")
    ann.get_by_role("link", name="Notifications").click()
    expect(ann.locator("#unread")).to_have_text("1 unread")
    note = ann.locator("li.notification")
    expect(note).to_contain_text("Rewrote the error code section.")
    expect(note).to_contain_text("vpn.md changed")
    assert serious_violations(ann) == []
    shot(ann, "notifications")
    note.get_by_role("button", name="Mark as read").click()
    expect(ann.locator("#unread")).to_have_text("Nothing unread.")
    ann.locator("li.notification").get_by_role("link", name="Ask again").click()
    ann.wait_for_url(lambda url: "/ask?q=" in url)
    expect(ann.get_by_label("Your question")).to_have_value(QUESTION)
    # their reports say what became of them; the issue itself is not theirs to open
    ann.goto(server.url + "/knowledge")
    expect(ann.get_by_role("region", name="Knowledge issues")).to_have_count(0)
    reports = ann.get_by_role("region", name="My reports")
    expect(reports).to_contain_text(QUESTION)
    expect(reports).to_contain_text("Rewrote the error code section.")
    assert serious_violations(ann) == []
    response = ann.goto(server.url + f"/knowledge/issues/{issue_id}")
    assert response is not None and response.status == 404
    ann.context.close()


def test_an_issue_page_is_a_404_for_who_owns_nothing_and_200_for_the_owner(
        server: LiveServer, page: Page, browser: Browser) -> None:
    server.services.owners.add("kb", Principal.operator(), user="olga")
    issue_id = _thumbs_down(server)
    sign_in(page, server, "bob")
    response = page.goto(server.url + f"/knowledge/issues/{issue_id}")
    assert response is not None and response.status == 404
    page.goto(server.url + "/knowledge")
    expect(page.get_by_role("region", name="My reports")).to_contain_text(
        "You have reported nothing yet.")
    owner = _fresh(browser)
    sign_in(owner, server, "olga")
    response = owner.goto(server.url + f"/knowledge/issues/{issue_id}")
    assert response is not None and response.status == 200
    owner.context.close()
