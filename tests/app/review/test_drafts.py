"""Agents' side of the review queue over HTTP: asking for a customer reply, turning a chat
answer into one, following it through review (never seeing approved text before approval),
resubmitting after changes were requested, and the requests that are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.core.settings import AuthSettings, Settings
from models.fakes import FakeLLM
from prompts.registry import PromptRegistry
from tests.access import make_user
from tests.world import World, build_world

if TYPE_CHECKING:
    from httpx2 import Response  # what starlette's TestClient returns

REPLY = "VPN error NWL-VPN-809 means the device certificate expired [1]."
CUSTOMER_TEXT = "VPN error NWL-VPN-809 means the device certificate expired."
QUESTION = "My VPN shows error NWL-VPN-809. What does it mean?"
SCORES = {"accuracy": 5, "completeness": 4, "tone": 4, "citations": 5}
MARKER = re.compile(r"\[\s*\d")


@contextmanager
def open_world(settings: Settings, root: Path, llm: FakeLLM) -> Iterator[World]:
    """The two-team world plus a second agent of team A (``agent_a2``)."""
    settings = settings.model_copy(update={"auth": AuthSettings(chat_rate="10000/minute")})
    with build_world(settings, root, llm) as world:
        world.tokens["agent_a2"] = make_user(world.services, "agent_a2", ["agent"], ["team-a"])
        yield world


@pytest.fixture
def llm() -> FakeLLM:
    return FakeLLM([REPLY])


@pytest.fixture
def world(settings: Settings, tmp_path: Path, llm: FakeLLM) -> Iterator[World]:
    with open_world(settings, tmp_path, llm) as w:
        yield w


def ask(world: World, caller: str = "agent_a", **body: Any) -> Response:
    payload = {"question": QUESTION, "collections": ["kb-a"]} | body
    return world.as_(caller).post("/v1/drafts", json=payload)


def new_draft(world: World, caller: str = "agent_a", **body: Any) -> str:
    r = ask(world, caller, **body)
    assert r.status_code == 201, r.text
    draft_id: str = r.json()["draft_id"]
    return draft_id


def review(world: World, caller: str, action: str, draft_id: str,
           body: dict[str, Any] | None = None) -> dict[str, Any]:
    path = f"/v1/review/drafts/{draft_id}"
    r = (world.as_(caller).patch(path, json=body) if action == "edit"
         else world.as_(caller).post(f"{path}/{action}", json=body))
    assert r.status_code == 200, (action, r.text)
    data: dict[str, Any] = r.json()
    return data


def agent_views(world: World, draft_id: str, author: str = "agent_a") -> list[dict[str, Any]]:
    """The draft as its author gets it: on its own and in the list of their drafts."""
    client = world.as_(author)
    one = client.get(f"/v1/drafts/{draft_id}")
    assert one.status_code == 200, one.text
    listed = [d for d in client.get("/v1/drafts").json()["drafts"] if d["draft_id"] == draft_id]
    assert len(listed) == 1
    return [one.json(), listed[0]]


def test_a_draft_is_written_for_the_customer_and_queued_for_review(world: World,
                                                                   llm: FakeLLM) -> None:
    customer = {"name": "Mevrouw Jansen", "language": "nl", "ticket_id": "T-4711"}
    r = ask(world, customer=customer, tone="formal")
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["state"], draft["approved_text"], draft["decision"]) == ("pending", None, None)
    assert draft["draft_text"] == CUSTOMER_TEXT and not MARKER.search(draft["draft_text"])
    assert (draft["customer"], draft["tone"], draft["refused"]) == (customer, "formal", False)
    assert (draft["question"], draft["collections"]) == (QUESTION, ["kb-a"])

    template = PromptRegistry().get("customer_reply")
    system, user = llm.prompts[-1]
    assert system == {"role": "system", "content": template.system}
    assert user["role"] == "user"
    for line in ("Customer: Mevrouw Jansen", "Language of the reply: Dutch", "Tone: formal",
                 f"Ticket: {QUESTION}", "Write the reply to Mevrouw Jansen",
                 'title="VPN guide"'):
        assert line in user["content"], line

    seen = world.as_("reviewer").get(f"/v1/review/drafts/{draft['draft_id']}")
    assert seen.status_code == 200, seen.text
    full = seen.json()
    assert (full["prompt"], full["model"], full["ticket_id"]) == (
        "customer_reply@1", "fake-llm", "T-4711")
    assert (full["generated_text"], full["text"], full["final_text"]) == (
        CUSTOMER_TEXT, CUSTOMER_TEXT, None)
    assert full["model_answer"] == REPLY  # the reviewer keeps the markers
    assert [c["document"] for c in full["citations"]] == ["vpn.md"]
    assert all("NWL-VPN-809" in c["quote"] for c in full["citations"])
    assert [(s["text"], s["supported"], s["citations"]) for s in full["sentences"]] == [
        (CUSTOMER_TEXT, True, [1])]
    assert full["retrieved"] and list(full["snapshot_ids"]) == ["kb-a"]
    # the agent's own copy is the same draft, and it is in their list
    assert agent_views(world, draft["draft_id"])[0] == draft


def test_the_prompt_falls_back_to_plain_defaults(world: World, llm: FakeLLM) -> None:
    new_draft(world)
    user = llm.prompts[-1][1]["content"]
    for line in ("Customer: the customer", "Language of the reply: English", "Tone: friendly"):
        assert line in user, line
    new_draft(world, customer={"language": "Frysk"}, tone="apologetic")
    user = llm.prompts[-1][1]["content"]
    assert "Language of the reply: Frysk" in user and "Tone: apologetic" in user


def test_a_chat_answer_becomes_a_draft_only_for_its_asker(world: World) -> None:
    chat = world.as_("agent_a").post("/v1/chat", json={"question": QUESTION,
                                                       "collections": ["kb-a"]})
    assert chat.status_code == 200, chat.text
    answer_id = chat.json()["answer_id"]
    path = f"/v1/answers/{answer_id}/draft"
    body = {"customer": {"name": "Mr Smit", "ticket_id": "T-9"}, "tone": "neutral"}
    for intruder in ("agent_a2", "agent_b"):
        r = world.as_(intruder).post(path, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "answer_not_found"), intruder
    assert world.as_("reviewer").post(path, json=body).status_code == 403
    unknown = world.as_("agent_a").post(f"/v1/answers/{'0' * 32}/draft", json=body)
    assert unknown.status_code == 404
    assert world.as_("agent_a2").get("/v1/drafts").json()["drafts"] == []

    r = world.as_("agent_a").post(path, json=body)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["answer_id"], draft["state"], draft["tone"]) == (answer_id, "pending",
                                                                   "neutral")
    # the shown answer, evidence first, without its markers: the documented sentence and the
    # line after it
    assert draft["draft_text"] == CUSTOMER_TEXT + " Reconnect on the office network to renew it."
    assert chat.json()["answer"].startswith(REPLY.removesuffix(" [1]."))
    assert draft["customer"] == {"name": "Mr Smit", "language": "en", "ticket_id": "T-9"}
    full = world.as_("reviewer").get(f"/v1/review/drafts/{draft['draft_id']}").json()
    assert (full["prompt"], full["citations"]) == ("answer@2", chat.json()["citations"])


def test_the_agent_never_sees_approved_text_before_approval(world: World) -> None:
    edited = "Your device certificate expired; reconnect on the office network to renew it."
    final = "Dear Ms Jansen, your device certificate expired. Reconnect at the office."
    draft_id = new_draft(world)
    rejected = new_draft(world)

    def check(state: str, draft_text: str, draft: str = draft_id) -> list[dict[str, Any]]:
        views = agent_views(world, draft)
        for view in views:
            assert (view["state"], view["approved_text"], view["draft_text"]) == (
                state, None, draft_text), view
        return views

    check("pending", CUSTOMER_TEXT)
    review(world, "reviewer", "claim", draft_id)
    check("in_review", CUSTOMER_TEXT)
    review(world, "reviewer", "edit", draft_id, {"text": edited})
    check("in_review", edited)  # the working copy, not an approved reply
    review(world, "reviewer", "request-changes", draft_id, {"comment": "Add the steps."})
    decision = check("changes_requested", edited)[0]["decision"]
    assert (decision["state"], decision["comment"]) == ("changes_requested", "Add the steps.")
    world.as_("agent_a").post(f"/v1/drafts/{draft_id}/resubmit", json={"note": "ok"})
    check("pending", edited)
    review(world, "reviewer", "claim", draft_id)
    check("in_review", edited)

    review(world, "reviewer", "claim", rejected)
    review(world, "reviewer", "reject", rejected,
           {"scores": SCORES, "reason": "outdated_source", "comment": "Old policy."})
    decision = check("rejected", CUSTOMER_TEXT, rejected)[0]["decision"]
    assert (decision["reason"], decision["comment"]) == ("outdated_source", "Old policy.")

    review(world, "reviewer", "approve", draft_id,
           {"scores": SCORES, "text": final, "comment": "Sent as edited."})
    for view in agent_views(world, draft_id):
        assert (view["state"], view["approved_text"], view["draft_text"]) == (
            "approved", final, None)
        assert view["decision"]["comment"] == "Sent as edited."
        assert view["decision"]["state"] == "approved" and view["decision"]["decided_at"]


def test_only_the_author_resubmits_and_only_after_changes_were_requested(world: World) -> None:
    draft_id = new_draft(world)
    path = f"/v1/drafts/{draft_id}/resubmit"
    revised = "Your VPN certificate expired: reconnect on the office network to renew it."

    def resubmit(caller: str, body: dict[str, Any]) -> Response:
        return world.as_(caller).post(path, json=body)

    for state in ("pending", "in_review"):
        r = resubmit("agent_a", {"text": revised})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "illegal_transition"), state
        assert state.replace("_", " ") in r.json()["error"]["message"]
        if state == "pending":
            review(world, "reviewer", "claim", draft_id)
    review(world, "reviewer", "request-changes", draft_id, {"comment": "Mention the office."})
    submitted = agent_views(world, draft_id)[0]["submitted_at"]
    for intruder in ("agent_a2", "agent_b"):
        r = resubmit(intruder, {"text": "hijacked"})
        assert (r.status_code, r.json()["error"]["code"]) == (404, "draft_not_found"), intruder
    assert resubmit("reviewer", {"text": "hijacked"}).status_code == 403
    assert agent_views(world, draft_id)[0]["state"] == "changes_requested"

    r = resubmit("agent_a", {"text": revised, "note": "added the office"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["state"], view["draft_text"], view["decision"]) == ("pending", revised, None)
    assert view["submitted_at"] > submitted
    full = world.as_("reviewer").get(f"/v1/review/drafts/{draft_id}").json()
    assert (full["text"], full["generated_text"]) == (revised, CUSTOMER_TEXT)
    assert full["events"][-1]["note"] == "added the office"
    again = resubmit("agent_a", {})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "illegal_transition")

    review(world, "reviewer", "claim", draft_id)
    done = review(world, "reviewer", "approve", draft_id, {"scores": SCORES})
    assert done["final_text"] == revised and done["edit_distance"] > 0


def test_a_resubmission_without_text_keeps_the_working_text(world: World) -> None:
    draft_id = new_draft(world)
    review(world, "reviewer", "claim", draft_id)
    review(world, "reviewer", "edit", draft_id, {"text": "Reviewer's wording."})
    review(world, "reviewer", "request-changes", draft_id, {"comment": "Check the code."})
    r = world.as_("agent_a").post(f"/v1/drafts/{draft_id}/resubmit", json={})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["draft_text"]) == ("pending", "Reviewer's wording.")


def test_bad_draft_requests_are_refused(world: World) -> None:
    before = len(world.as_("agent_a").get("/v1/drafts").json()["drafts"])
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("agent_a", {"tone": "sarcastic"}, 422, "invalid_request"),
        ("agent_a", {"question": ""}, 422, "empty_question"),
        ("agent_a", {"question": "   "}, 422, "empty_question"),
        ("agent_a", {"question": "x" * 4001}, 422, "question_too_long"),
        ("agent_a", {"collections": ["kb-b"]}, 404, "collection_not_found"),
        ("agent_a", {"collections": ["kb-a", "kb-b"]}, 404, "collection_not_found"),
        ("agent_a", {"collections": ["kb-zz"]}, 404, "collection_not_found"),
        ("agent_b", {"collections": ["kb-a"]}, 404, "collection_not_found"),
        ("reviewer", {}, 403, "missing_role"),
        ("evaluator", {}, 403, "missing_role"),
        ("anonymous", {}, 401, "unauthorized"),
    ]
    wrong = {}
    for caller, body, status, code in cases:
        r = ask(world, caller, **body)
        if (r.status_code, r.json()["error"]["code"]) != (status, code):
            wrong[caller, str(body)[:60]] = (r.status_code, r.text[:200])
    assert not wrong, wrong
    hidden = ask(world, collections=["kb-b"]).json()["error"]["message"]
    missing = ask(world, collections=["kb-zz"]).json()["error"]["message"]
    assert hidden.replace("kb-b", "X") == missing.replace("kb-zz", "X")
    assert len(world.as_("agent_a").get("/v1/drafts").json()["drafts"]) == before
    # the positive controls: the same callers with a good request
    assert ask(world, "agent_a").status_code == 201
    assert ask(world, "agent_b", collections=["kb-b"]).status_code == 201


def test_grouped_citation_markers_never_reach_the_customer(world: World, llm: FakeLLM) -> None:
    llm.replies = ["VPN error NWL-VPN-809 means the device certificate expired [1, 2]."]
    draft_id = new_draft(world)
    full = world.as_("reviewer").get(f"/v1/review/drafts/{draft_id}").json()
    assert "[1, 2]" in full["model_answer"]  # grounding kept both citations
    assert not MARKER.search(agent_views(world, draft_id)[0]["draft_text"])


def test_draft_times_carry_their_timezone(db_settings: Settings, tmp_path: Path) -> None:
    with open_world(db_settings, tmp_path, FakeLLM([REPLY])) as world:
        draft_id = new_draft(world)
        review(world, "reviewer", "claim", draft_id)
        full = review(world, "reviewer", "approve", draft_id, {"scores": SCORES})
        view = agent_views(world, draft_id)[0]
        stamps = [view["created_at"], view["submitted_at"], view["decision"]["decided_at"],
                  *(e["at"] for e in full["events"])]
        assert all(datetime.fromisoformat(s).tzinfo is not None for s in stamps), stamps
