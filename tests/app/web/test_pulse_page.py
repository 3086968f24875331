"""The NPS pulse on the ask page, in Chromium: not shown to a newcomer, shown beside the
question box (which stays usable) after the fifth question, answered with the keyboard-usable
radio group, and dismissed with "No, thanks" also without JavaScript; either way it is gone
for the period (a second tab's late answer changes nothing) and the service stored what was
given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.answering.tables import Answer
from app.pulse.tables import NpsResponse
from tests.app.web.conftest import (
    PASSWORD,
    LiveServer,
    agent_server,
    serious_violations,
    shot,
    sign_in,
)

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
QUESTION = "How likely are you to recommend Vraagbaak to a colleague?"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from agent_server(tmp_path, REPLY)


def asked(server: LiveServer, username: str, questions: int, first: int = 0) -> int:
    """Give ``username`` that many more stored answers (the pulse waits for the fifth)."""
    uid = server.services.users.get(username).id
    with server.services.sessions() as session:
        for i in range(first, first + questions):
            session.add(Answer(id=f"{username}{i}", user_id=uid, question="q",
                               collections=["kb"], retrieved=[], prompt_id="answer",
                               prompt_version=1, model_id="fake", snapshot_ids={}, answer="a",
                               citations=[], sentences=[], latency_ms={}))
        session.commit()
    return uid


def scores(server: LiveServer, uid: int) -> list[int | None]:
    with server.services.sessions() as session:
        return list(session.scalars(select(NpsResponse.score)
                                    .where(NpsResponse.user_id == uid)))


def test_the_pulse_waits_for_the_fifth_question_and_takes_a_score(server: LiveServer,
                                                                   page: Page) -> None:
    uid = asked(server, "ann", 4)
    sign_in(page, server, "ann")
    page.goto(server.url + "/ask")
    expect(page.get_by_role("heading", name="Ask the documentation")).to_be_visible()
    expect(page.get_by_role("region", name="One quick question")).to_have_count(0)
    asked(server, "ann", 1, first=4)
    page.goto(server.url + "/ask")
    pulse = page.get_by_role("region", name="One quick question")
    expect(pulse).to_be_visible()
    scale = pulse.get_by_role("group", name=QUESTION)
    expect(scale.get_by_role("radio")).to_have_count(11)
    # the question box is not in its way
    page.get_by_label("Your question").fill("still typing")
    expect(page.get_by_label("Your question")).to_have_value("still typing")
    assert serious_violations(page) == []
    shot(page, "ask-pulse")
    # by keyboard: into the group, arrow keys move the choice
    scale.get_by_role("radio", name="7", exact=True).focus()
    page.keyboard.press("ArrowRight")
    expect(scale.get_by_role("radio", name="8", exact=True)).to_be_checked()
    pulse.get_by_role("button", name="Send my score").click()
    page.wait_for_url(server.url + "/ask")
    expect(page.get_by_role("region", name="One quick question")).to_have_count(0)
    assert scores(server, uid) == [8]
    page.reload()
    expect(page.get_by_role("region", name="One quick question")).to_have_count(0)


def test_no_thanks_dismisses_it_without_javascript(server: LiveServer,
                                                    browser: Browser) -> None:
    server.user("bob", "agent")
    uid = asked(server, "bob", 5)
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        page.get_by_label("Username").fill("bob")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(server.url + "/ask")
        other_tab = context.new_page()
        other_tab.goto(server.url + "/ask")
        pulse = page.get_by_role("region", name="One quick question")
        expect(pulse).to_be_visible()
        pulse.get_by_role("button", name="No, thanks").click()
        page.wait_for_url(server.url + "/ask")
        expect(page.get_by_role("region", name="One quick question")).to_have_count(0)
        assert scores(server, uid) == [None]
        # the pulse still open in another tab: answering it there is no error, and no score
        late = other_tab.get_by_role("region", name="One quick question")
        late.get_by_role("radio", name="3", exact=True).check()
        late.get_by_role("button", name="Send my score").click()
        other_tab.wait_for_url(server.url + "/ask")
        expect(other_tab.get_by_role("heading", name="Ask the documentation")).to_be_visible()
        expect(other_tab.get_by_role("region", name="One quick question")).to_have_count(0)
        assert scores(server, uid) == [None]
    finally:
        context.close()
