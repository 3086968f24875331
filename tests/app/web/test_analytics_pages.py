"""The adoption page in Chromium: a manager reads the figures (a team of fewer than k reads
"fewer than 5"), the weekly charts and the CSV link; an agent finds no such page; an admin
chooses the baseline and every figure turns into "baseline -> now"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.analytics.figures import monday
from app.core.tables import utcnow
from tests.access import make_user
from tests.app.analytics.test_figures import answer, at
from tests.app.web.conftest import (
    LiveServer,
    agent_server,
    serious_violations,
    shot,
    sign_in,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    for live in agent_server(tmp_path, "Unused."):
        s = live.services
        last_week = monday(utcnow().date()) - timedelta(weeks=1)
        teams = {"support": [f"s{i}" for i in range(6)], "sales": ["x1", "x2"]}
        for team, names in teams.items():
            for name in names:
                make_user(s, name, ["agent"], [team])
        with s.sessions() as session:
            for names in teams.values():
                for name in names:
                    answer(session, s.users.get(name).id, at(last_week + timedelta(days=2)))
            session.commit()
        live.user("meg", "manager")
        live.user("ada", "admin")
        yield live


def test_the_manager_reads_the_figures_and_an_agent_finds_no_page(server: LiveServer,
                                                                   page: Page) -> None:
    sign_in(page, server, "ann")
    expect(page.get_by_role("navigation", name="Main")).not_to_contain_text("Adoption")
    assert page.goto(server.url + "/analytics").status == 404  # type: ignore[union-attr]
    page.context.clear_cookies()
    sign_in(page, server, "meg")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Adoption").click()
    expect(page.get_by_role("heading", name="Adoption", level=1)).to_be_visible()
    company = page.get_by_role("region", name="Whole company")
    expect(company.locator("tr[data-figure=questions]")).to_contain_text("8")
    expect(page.get_by_text("No baseline chosen yet")).to_be_visible()
    expect(page.get_by_role("region", name="Baseline period")).to_have_count(0)  # admins'
    page.get_by_label("Grouping").select_option(label="Per team")
    page.get_by_role("button", name="Show").click()
    sales = page.get_by_role("region", name="sales")
    expect(sales.locator("tr[data-figure=questions]")).to_contain_text("fewer than 5")
    support = page.get_by_role("region", name="support")
    expect(support.locator("tr[data-figure=questions]")).to_contain_text("6")
    charts = page.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(8)
    expect(page.get_by_role("img", name="Questions asked")).to_be_visible()
    link = page.get_by_role("link", name="Per team")
    assert link.get_attribute("href") == "/v1/analytics/weekly.csv?by=team&weeks=12"
    csv = page.request.get(server.url + "/v1/analytics/weekly.csv?by=team&weeks=2")
    assert csv.ok and csv.headers["content-type"].startswith("text/csv")
    assert serious_violations(page) == []
    shot(page, "analytics-teams")


def test_the_admin_chooses_the_baseline(server: LiveServer, page: Page) -> None:
    sign_in(page, server, "ada")
    page.goto(server.url + "/analytics")
    form = page.get_by_role("region", name="Baseline period")
    start = monday(utcnow().date()) - timedelta(weeks=1)
    form.get_by_label("First day").fill(start.isoformat())
    form.get_by_label("Last day").fill((start + timedelta(days=6)).isoformat())
    form.get_by_role("button", name="Use as baseline").click()
    expect(page.get_by_text("Baseline: " + start.isoformat())).to_be_visible()
    row = page.get_by_role("region", name="Whole company").locator("tr[data-figure=questions]")
    expect(row).to_contain_text("8 → ")
    assert serious_violations(page) == []
    shot(page, "analytics-baseline")
    form = page.get_by_role("region", name="Baseline period")
    # a browser keeps an empty day from being sent; the server says so too when one is
    form.get_by_label("First day").evaluate("e => { e.required = false; e.value = '' }")
    form.get_by_role("button", name="Use as baseline").click()
    expect(page.get_by_role("alert")).to_contain_text("give both days as YYYY-MM-DD")
