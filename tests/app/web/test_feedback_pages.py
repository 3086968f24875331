"""Feedback on the ask page, in Chromium: thumbs down with a reason chip and a comment, then
"I still need a person"; the page says what was given, and the service stored it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app.web.conftest import (
    LiveServer,
    agent_server,
    serious_violations,
    shot,
    sign_in,
)

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from agent_server(tmp_path, REPLY)


def test_the_agent_votes_an_answer_down_with_a_reason_and_sees_it(server: LiveServer,
                                                                  page: Page) -> None:
    sign_in(page, server, "ann")
    page.get_by_label("Your question").fill("What does VPN error NWL-VPN-809 mean?")
    page.get_by_role("button", name="Ask", exact=True).click()
    answer = page.locator("article.answer").first
    expect(answer.locator("q.sentence.quoted").first).to_contain_text("certificate expired")
    conversation_url = page.url
    feedback = answer.get_by_role("region", name="Your feedback")
    reasons = feedback.get_by_role("group", name="Not helpful? What was wrong (optional)")
    reasons.get_by_label("Wrong citation").check()
    feedback.get_by_label("Comment (optional)").fill("It cites the printer page.")
    assert serious_violations(page) == []
    shot(page, "ask-feedback-form")
    feedback.get_by_role("button", name="Not helpful").click()
    # back in the same conversation, the answer now says what its reader gave
    page.wait_for_url(lambda url: url.startswith(conversation_url))
    answer = page.locator("article.answer").first
    given = answer.locator(".feedback-given")
    expect(given).to_contain_text("You marked this answer not helpful.")
    expect(given.locator(".chip")).to_have_text(["Wrong citation"])
    expect(answer.locator(".feedback-comment")).to_have_text("It cites the printer page.")
    # the forms fold away behind "change"; the outcome keeps the vote
    answer.get_by_text("Change your feedback").click()
    answer.get_by_role("button", name="I still need a person").click()
    answer = page.locator("article.answer").first
    expect(answer.locator(".feedback-given")).to_contain_text("You still need a person.")
    expect(answer.locator(".feedback-given")).to_contain_text("not helpful")
    assert serious_violations(page) == []
    shot(page, "ask-feedback")
    ann = server.services.identity.as_user("ann")
    answer_id = answer.get_attribute("data-answer")
    assert answer_id is not None
    stored = server.services.feedback.mine(answer_id, ann, readable={"kb"})
    assert (stored.vote, stored.reasons, stored.outcome) == ("down", ["wrong_citation"],
                                                             "needs_person")
