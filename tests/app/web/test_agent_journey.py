"""The agent's journey in a real browser with the real models (MiniLM + SmolLM2) over the demo
knowledge base: ask, watch the answer stream in, follow a citation to its highlighted source,
ask a follow-up, turn the answer into a customer reply for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app.web.conftest import LiveServer, serious_violations, shot, sign_in, start_server
from tests.app.web.conftest import web_settings as base_settings
from tests.conftest import DEMO_KB

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = base_settings(tmp_path).model_copy(update={"warm_up": True})
    for live in start_server(settings):  # embedder=None, llm=None: the shipped models
        s = live.services
        s.collections.upsert("demo", DEMO_KB, "en")
        s.indexer.sync("demo")
        s.access.set_grants("demo", everyone=True)
        live.user("ann", "agent")
        yield live


def test_an_agent_asks_follows_a_citation_asks_again_and_makes_a_draft(
        server: LiveServer, page: Page) -> None:
    sign_in(page, server, "ann")
    page.get_by_label("Your question").fill("What does VPN error NWL-VPN-809 mean?")
    page.get_by_role("button", name="Ask", exact=True).click()
    # tokens stream into the page before the grounded answer replaces them
    expect(page.locator("article.answer .streaming")).not_to_be_empty(timeout=60_000)
    answer = page.locator("article.answer[data-answer]").first
    expect(answer).to_be_visible(timeout=120_000)
    expect(answer.locator("blockquote").first).to_contain_text("NWL-VPN-809")
    shot(page, "journey-answer")
    answer.locator("a.cite").first.click()
    expect(page.locator("#source mark")).to_contain_text("NWL-VPN-809")
    assert serious_violations(page) == []
    shot(page, "journey-source")

    page.get_by_label("Your question").fill("How long do we keep the monthly backups?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("article.answer[data-answer]")).to_have_count(2, timeout=120_000)
    latest = page.locator("article.answer[data-answer]").last
    expect(latest.locator(".question")).to_have_text("How long do we keep the monthly backups?")

    answer.get_by_role("link", name="Make a customer reply").click()
    page.get_by_label("Ticket number").fill("T-2002")
    page.get_by_role("button", name="Send to review").click()
    expect(page.locator("h1 .badge")).to_have_text("pending")
    shot(page, "journey-draft")
