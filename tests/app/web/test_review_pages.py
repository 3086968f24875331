"""The reviewer's pages in a real browser over a real server, with the fake models: the queue,
claiming, editing, rating and deciding, a lost race explained in words, a rejection that
needs a reason, keyboard-only use, accessibility and the Dutch catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.core.settings import ReviewSettings, Settings
from app.review.records import Customer
from models.fakes import FakeEmbedder, FakeLLM
from tests.app.web.conftest import (
    LiveServer,
    serious_violations,
    shot,
    sign_in,
    start_server,
    web_settings,
)
from tests.conftest import write_kb

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]. It costs 99 euro [1]."
EDITED = "Dear Mrs. Jansen, your device certificate expired: renew it in the portal."


def serve(settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    for live in start_server(settings, embedder=FakeEmbedder(), llm=FakeLLM([REPLY])):
        s = live.services
        s.collections.upsert("kb", write_kb(tmp_path / "kb"), "en")
        s.indexer.sync("kb")
        s.access.set_grants("kb", everyone=True)
        s.users.create_team("helpdesk")
        s.users.create("ann", roles=["agent"], teams=["helpdesk"],
                       password="correct horse battery staple")
        live.user("rita", "reviewer")
        live.user("otto", "reviewer")
        yield live


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from serve(web_settings(tmp_path), tmp_path)


@pytest.fixture
def short_claims(tmp_path: Path) -> Iterator[LiveServer]:
    """Claims that lapse after three seconds, so another reviewer can take a draft over."""
    settings = web_settings(tmp_path).model_copy(
        update={"review": ReviewSettings(claim_minutes=0.05)})
    yield from serve(settings, tmp_path)


def make_draft(server: LiveServer, ticket: str = "T-1001") -> str:
    """The agent's draft, made through the services as the agent's pages make it."""
    s = server.services
    ann = s.identity.as_user("ann")
    made = s.drafts.create(ann, "What does VPN error NWL-VPN-809 mean?", ["kb"],
                           allowed=s.access.readable(ann),
                           customer=Customer(name="Mrs. Jansen", ticket_id=ticket),
                           tone="formal")
    return made.draft_id


def watched(opened: Page, problems: list[str]) -> Page:
    """``opened`` with the checks of the ``page`` fixture: no script or CSP error."""
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error"
              and not m.text.startswith("Failed to load resource") else None)
    opened.on("pageerror", lambda e: problems.append(str(e)))
    return opened


def other_page(browser: Browser, problems: list[str]) -> Page:
    """A second reviewer's browser: its own context (its own cookies)."""
    return watched(browser.new_context(locale="en-GB").new_page(), problems)


def rate(page: Page, score: str) -> None:
    for criterion in ("Accuracy", "Completeness", "Tone", "Citations"):
        page.get_by_role("group", name=criterion, exact=True).get_by_label(
            score, exact=True).check()


def test_claim_edit_rate_approve_and_the_loser_is_told_who_won(
        server: LiveServer, page: Page, browser: Browser) -> None:
    draft_id = make_draft(server)
    problems: list[str] = []
    otto = other_page(browser, problems)
    otto_late = watched(otto.context.new_page(), problems)
    try:
        sign_in(otto, server, "otto")
        # otto opens the pending draft twice (two tabs), before rita takes it
        for tab in (otto, otto_late):
            tab.goto(f"{server.url}/review/drafts/{draft_id}")
            expect(tab.get_by_role("button", name="Claim", exact=True)).to_be_visible()

        sign_in(page, server, "rita")
        assert page.url.endswith("/review")
        row = page.get_by_role("row").filter(has_text="T-1001")
        expect(row).to_contain_text("pending")
        expect(row).to_contain_text("ann")
        expect(page.locator("#sla")).not_to_have_text("none waiting")
        expect(page.locator(".counts")).to_contain_text("pending 1")
        assert serious_violations(page) == []
        shot(page, "review-queue")
        row.get_by_role("button", name="Claim T-1001").click()
        page.wait_for_url(f"**/review/drafts/{draft_id}")
        expect(page.locator("#draft-state")).to_have_text("in review")
        expect(page.get_by_text("You hold this draft until")).to_be_visible()
        # the evidence beside the editor: ticket text, flagged sentences, quotes, customer, tone
        expect(page.locator("#ticket-text")).to_have_text("What does VPN error NWL-VPN-809 mean?")
        expect(page.locator(".sentence.supported")).to_contain_text("certificate expired")
        expect(page.locator(".sentence.unsupported")).to_contain_text("99 euro")
        expect(page.locator(".evidence blockquote").first).to_contain_text("NWL-VPN-809")
        expect(page.locator(".evidence")).to_contain_text("Mrs. Jansen")
        expect(page.locator(".evidence")).to_contain_text("formal")
        assert serious_violations(page) == []
        shot(page, "review-draft")

        # otto's claim from the page he opened before: lost, and told who and when
        response_codes: list[int] = []
        otto.on("response", lambda r: response_codes.append(r.status)
                if "/claim" in r.url else None)
        otto.get_by_role("button", name="Claim", exact=True).click()
        lost = otto.get_by_role("alert")
        expect(lost).to_contain_text("Someone else was first")
        expect(lost).to_contain_text("You could not claim this draft.")
        expect(lost).to_contain_text("rita claimed this draft on")
        expect(lost).to_contain_text("holds it until")
        assert response_codes == [409]
        expect(otto.get_by_role("button", name="Approve")).to_have_count(0)
        assert serious_violations(otto) == []
        shot(otto, "review-lost-claim")

        # rita edits, saves, rates and approves
        page.get_by_label("Reply to the customer").fill(EDITED)
        page.get_by_role("button", name="Save the text").click()
        expect(page.get_by_label("Reply to the customer")).to_have_value(EDITED)
        expect(page.locator(".history")).to_contain_text("text edited")
        rate(page, "4")
        page.get_by_label("Comment (for the author; needed to request changes)").fill("Nice.")
        page.get_by_role("button", name="Approve").click()
        expect(page.locator("#draft-state")).to_have_text("approved")
        expect(page.locator("#working-text")).to_have_text(EDITED)

        # otto's second tab, still showing the pending draft: told it was approved, by whom
        otto_late.get_by_role("button", name="Claim", exact=True).click()
        late = otto_late.get_by_role("alert")
        expect(late).to_contain_text("rita approved this draft on")
        expect(otto_late.locator("#draft-state")).to_have_text("approved")
    finally:
        otto.context.close()
    assert not problems, problems

    # the agent's own page shows the approved text
    agent = browser.new_context(locale="en-GB").new_page()
    try:
        sign_in(agent, server, "ann")
        agent.goto(f"{server.url}/drafts/{draft_id}")
        expect(agent.locator("#approved-text")).to_have_text(EDITED)
        expect(agent.locator("h1 .badge")).to_have_text("approved")
    finally:
        agent.context.close()
    rating = server.services.review.get(draft_id, server.services.identity.as_user("rita"),
                                        readable={"kb"})
    assert rating.scores == {"accuracy": 4, "completeness": 4, "tone": 4, "citations": 4}
    assert rating.decided_by == "rita" and rating.final_text == EDITED


def test_a_decision_after_the_claim_lapsed_and_was_taken_is_explained(
        short_claims: LiveServer, page: Page) -> None:
    server = short_claims
    draft_id = make_draft(server)
    sign_in(page, server, "rita")
    page.goto(f"{server.url}/review/drafts/{draft_id}")
    page.get_by_role("button", name="Claim", exact=True).click()
    page.get_by_label("Reply to the customer").fill(EDITED)
    rate(page, "5")
    page.wait_for_timeout(3500)  # rita's claim lapses; otto takes the draft over
    s = server.services
    otto = s.identity.as_user("otto")
    s.review.claim(draft_id, otto, readable=s.access.readable(otto))
    page.get_by_role("button", name="Approve").click()
    lost = page.get_by_role("alert")
    expect(lost).to_contain_text("Your decision was not recorded.")
    expect(lost).to_contain_text("otto claimed this draft on")
    expect(lost.locator("pre")).to_have_text(EDITED)  # what she wrote is not lost
    expect(page.locator("#draft-state")).to_have_text("in review")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert s.review.get(draft_id, otto, readable={"kb"}).final_text is None


def test_a_rejection_needs_a_reason(server: LiveServer, page: Page) -> None:
    draft_id = make_draft(server)
    sign_in(page, server, "rita")
    page.goto(f"{server.url}/review/drafts/{draft_id}")
    page.get_by_role("button", name="Claim", exact=True).click()
    rate(page, "2")
    page.get_by_label("Comment (for the author; needed to request changes)").fill("Wrong.")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#problem")).to_have_text(
        "A rejection needs a reason: choose one from the list.")
    expect(page.locator("#draft-state")).to_have_text("in review")
    # what the reviewer typed is still there
    expect(page.get_by_label("Comment (for the author; needed to request changes)")
           ).to_have_value("Wrong.")
    expect(page.get_by_role("group", name="Accuracy", exact=True).get_by_label(
        "2", exact=True)).to_be_checked()
    page.get_by_label("Reason (needed to reject)").select_option("wrong_facts")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#draft-state")).to_have_text("rejected")
    expect(page.locator(".card").filter(has_text="Decision")).to_contain_text("wrong facts")


def test_approving_needs_every_score_and_changes_need_a_comment(server: LiveServer,
                                                                 page: Page) -> None:
    draft_id = make_draft(server)
    sign_in(page, server, "rita")
    page.goto(f"{server.url}/review/drafts/{draft_id}")
    page.get_by_role("button", name="Claim", exact=True).click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#problem")).to_have_text(
        "Rate every criterion from 1 to 5 before deciding.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#problem")).to_have_text(
        "Say in the comment what the author should change.")
    page.get_by_label("Comment (for the author; needed to request changes)").fill("Add the fee.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#draft-state")).to_have_text("changes requested")


def test_claim_and_approve_with_the_keyboard_only(server: LiveServer, page: Page) -> None:
    draft_id = make_draft(server)
    sign_in(page, server, "rita")
    for _ in range(40):  # Tab through the queue to the row's claim button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()").startswith("Claim"):
            break
    else:
        pytest.fail("no claim button reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/review/drafts/{draft_id}")
    expect(page.locator("#draft-state")).to_have_text("in review")
    for criterion in ("accuracy", "completeness", "tone", "citations"):
        for _ in range(30):
            if page.evaluate("document.activeElement.name") == f"score_{criterion}":
                break
            page.keyboard.press("Tab")
        else:
            pytest.fail(f"no {criterion} score reached with Tab")
        page.keyboard.press("Space")  # the first score, 1; the arrows move on to 5
        for _ in range(4):
            page.keyboard.press("ArrowRight")
    page.keyboard.press("Alt+a")  # the approve button's access key (review.js)
    expect(page.locator("#draft-state")).to_have_text("approved")
    decided = server.services.review.get(draft_id, server.services.identity.as_user("rita"),
                                         readable={"kb"})
    assert decided.scores == {"accuracy": 5, "completeness": 5, "tone": 5, "citations": 5}


def test_the_access_key_claims_and_the_queue_releases(server: LiveServer, page: Page) -> None:
    draft_id = make_draft(server)
    sign_in(page, server, "rita")
    page.goto(f"{server.url}/review/drafts/{draft_id}")
    expect(page.locator("#keys-help")).to_contain_text("Alt+A Approve")
    page.keyboard.press("Alt+c")
    expect(page.locator("#draft-state")).to_have_text("in review")
    page.goto(f"{server.url}/review?assignee=rita")
    row = page.get_by_role("row").filter(has_text="T-1001")
    expect(row).to_contain_text("rita")
    row.get_by_role("button", name="Release T-1001").click()
    expect(page.get_by_role("row").filter(has_text="T-1001")).to_have_count(0)  # filter kept
    page.goto(f"{server.url}/review?state=pending")
    expect(page.get_by_role("row").filter(has_text="T-1001")).to_contain_text("pending")
    page.goto(f"{server.url}/review?state=approved")
    expect(page.get_by_text("No drafts match.")).to_be_visible()
    page.goto(f"{server.url}/review?team=helpdesk&collection=kb&min_age_minutes=0")
    expect(page.get_by_role("row").filter(has_text="T-1001")).to_be_visible()
    page.goto(f"{server.url}/review?min_age_minutes=600")
    expect(page.get_by_text("No drafts match.")).to_be_visible()


def test_the_queue_in_dutch_and_for_reviewers_only(server: LiveServer, page: Page) -> None:
    draft_id = make_draft(server)
    sign_in(page, server, "ann")
    assert page.goto(server.url + "/review").status == 404  # type: ignore[union-attr]
    response = page.request.post(f"{server.url}/review/drafts/{draft_id}/claim",
                                 form={"csrf_token": "wrong"})
    assert response.status == 401
    page.context.clear_cookies()
    sign_in(page, server, "rita")
    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Beoordelingswachtrij")).to_be_visible()
    page.goto(f"{server.url}/review/drafts/{draft_id}")
    expect(page.get_by_role("button", name="Claimen")).to_be_visible()
    # without the form's token a claim is refused, with it it goes through
    bare = page.request.post(f"{server.url}/review/drafts/{draft_id}/claim", form={})
    assert bare.status == 401
    page.get_by_role("button", name="Claimen").click()
    expect(page.get_by_role("button", name="Goedkeuren")).to_be_visible()
