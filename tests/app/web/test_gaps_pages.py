"""The knowledge gaps page, in Chromium: an admin reads the topics and both document lists,
changes the period with the form (keyboard only), and finds the way back to /knowledge; an
agent who owns nothing gets the 403 page; the page passes axe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app.knowledge_gaps.world import indexed_days_ago, stored
from tests.app.web.conftest import (
    LiveServer,
    agent_server,
    serious_violations,
    shot,
    sign_in,
)

VPN = ("VPN certificate expired error NWL-VPN-809",
       "VPN certificate expired again, error NWL-VPN-809")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    for live in agent_server(tmp_path, "VPN error NWL-VPN-809 means the certificate "
                             "expired [1]."):
        live.user("ada", "admin")
        s = live.services
        indexed_days_ago(s, 200)
        stored(s, VPN[0], days_ago=2, refused=True)
        stored(s, VPN[1], days_ago=60, down=True)
        stored(s, "<script>alert(1)</script> printer jam", days_ago=3, refused=True)
        stored(s, "vpn?", days_ago=120, cites=[("kb", "vpn.md")])
        yield live


def test_an_admin_reads_the_gaps_and_changes_the_period(server: LiveServer,
                                                         page: Page) -> None:
    sign_in(page, server, "ada")
    page.goto(server.url + "/knowledge/gaps")
    expect(page.get_by_role("heading", name="Knowledge gaps", level=1)).to_be_visible()
    topics = page.get_by_role("table", name="Topics of refused or voted-down questions")
    rows = topics.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("VPN certificate expired")
    expect(rows.first.locator(".trend")).to_have_text("steady")
    # document text is shown, never run
    expect(rows.nth(1).locator("th")).to_contain_text("<script>alert(1)</script>")
    uncited = page.get_by_role("table", name="Documents not cited")
    expect(uncited.locator("tbody tr")).to_have_count(3)
    expect(uncited.locator("tbody tr").first).to_contain_text("never")
    expect(page.get_by_role("link", name="Back to Knowledge")).to_have_attribute(
        "href", "/knowledge")
    assert serious_violations(page) == []
    shot(page, "knowledge-gaps")
    # a shorter period, by keyboard: the older VPN question drops out, and vpn.md, cited
    # 120 days ago, is no longer uncited over 150 days
    window = page.get_by_label("Questions of the last (days)")
    window.fill("30")
    page.get_by_label("Not cited in (days)").fill("150")
    page.get_by_label("Not cited in (days)").press("Enter")
    page.wait_for_url(lambda url: "window_days=30" in url)
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".trend")).to_have_text("new")
    expect(page.get_by_role("table", name="Documents not cited").locator("tbody tr")
           ).to_have_count(2)
    expect(page.get_by_label("Questions of the last (days)")).to_have_value("30")


def test_the_page_is_in_dutch_for_a_dutch_reader(server: LiveServer, page: Page) -> None:
    sign_in(page, server, "ada")
    page.context.add_cookies([{"name": "vraagbaak_lang", "value": "nl", "url": server.url}])
    page.goto(server.url + "/knowledge/gaps")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kennishiaten")
    expect(page.get_by_role("link", name="Terug naar Kennis")).to_be_visible()


def test_an_agent_who_owns_nothing_is_not_allowed(server: LiveServer, page: Page) -> None:
    sign_in(page, server, "ann")
    response = page.goto(server.url + "/knowledge/gaps")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.get_by_role("alert")).to_contain_text("you own none")
    assert "NWL-VPN-809" not in page.content()


def test_a_day_count_that_is_not_one_falls_back_to_the_default(server: LiveServer,
                                                                page: Page) -> None:
    sign_in(page, server, "ada")
    page.goto(server.url + "/knowledge/gaps?window_days=soon&max_age_days=0")
    expect(page.get_by_role("alert")).to_have_text(
        "A day count was not a whole number in range; its default is used.")
    expect(page.get_by_label("Questions of the last (days)")).to_have_value("90")
    expect(page.get_by_label("Older than (days)")).to_have_value("365")
    page.goto(server.url + "/knowledge/gaps?window_days=30")
    expect(page.get_by_role("alert")).to_have_count(0)
