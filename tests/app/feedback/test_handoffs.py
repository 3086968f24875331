""""I still need a person" hands the answer off to the ticketing system: a signed webhook to a
real HTTP receiver on 127.0.0.1 with the question, the answer, its citations and the agent;
retried until delivered (the agent sees failed, retrying, then delivered), once per person
per answer, audited; and the agent follows it over the API and on the ask page. Every test
that touches the database runs on SQLite and on PostgreSQL (``db_settings``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.deps import SESSION_COOKIE
from app.audit.log import AuditFilter
from app.core.errors import NotFound
from app.core.principal import Principal
from app.core.settings import HandoffSettings, ReviewSettings, Settings
from app.core.tables import Base
from app.feedback.records import GivenFeedback
from app.feedback.tables import HandoffDelivery
from app.review.webhooks import verify_signature
from app.web.i18n import LANG_COOKIE
from app.wiring import Services
from tests.access import bearer, make_user
from tests.app.review.test_webhooks import Receiver

QUESTION = "What does VPN error NWL-VPN-809 mean?"
SECRET = "handoff-secret-0123456789"
NEEDS_PERSON = GivenFeedback(outcome="needs_person")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    built = Receiver(reply=b'{"ticket_id": "SD-42"}')
    yield built
    built.close()


@pytest.fixture
def settings(db_settings: Settings, receiver: Receiver) -> Settings:
    return db_settings.model_copy(update={
        "handoff": HandoffSettings(webhook_urls=[receiver.url], webhook_secret=SECRET),
        "review": ReviewSettings(webhook_max_attempts=3, webhook_backoff_s=0.01,
                                 webhook_timeout_s=2.0)})


def _ask(services: Services, username: str, roles: list[str] | None = None,
         ) -> tuple[Principal, str]:
    make_user(services, username, roles or ["agent"])
    user = services.identity.as_user(username)
    answer = services.answers.answer(QUESTION, ["kb"], allowed={"kb"}, asker=user)
    return user, answer.answer_id


def _actions(services: Services, action: str) -> list[dict[str, Any]]:
    return list(services.audit.entries(AuditFilter(action=action)))


def _rows(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(HandoffDelivery)) or 0)


def test_needs_person_sends_a_signed_handoff_with_question_answer_citations_and_agent(
        indexed: Services, receiver: Receiver) -> None:
    ann, answer_id = _ask(indexed, "ann")
    given = indexed.feedback.give(answer_id, ann, NEEDS_PERSON, readable={"kb"})
    [queued] = given.handoffs
    assert (queued.state, queued.attempts, queued.delivered_at) == ("queued", 0, None)
    assert indexed.handoffs.deliver_due() == 1
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert verify_signature(SECRET, headers["x-vraagbaak-timestamp"], request.body,
                            headers["x-vraagbaak-signature"])
    assert not verify_signature("another-secret-0123456", headers["x-vraagbaak-timestamp"],
                                request.body, headers["x-vraagbaak-signature"])
    assert headers["x-vraagbaak-event"] == "answer.handoff"
    assert headers["x-vraagbaak-delivery"] == queued.handoff_id
    sent = json.loads(request.body)
    answer = indexed.answers.get(answer_id, readable={"kb"}, viewer=ann, audit=False)
    assert {k: sent[k] for k in ("event", "handoff_id", "answer_id", "question", "answer",
                                 "asked_by", "collections")} == {
        "event": "answer.handoff", "handoff_id": queued.handoff_id, "answer_id": answer_id,
        "question": QUESTION, "answer": answer.answer, "asked_by": "ann",
        "collections": ["kb"]}
    assert sent["citations"] and sent["citations"] == [
        {"n": c.n, "collection": c.collection, "document": c.document, "title": c.title,
         "page": c.page, "quote": c.quote} for c in answer.citations]
    assert "certificate" in sent["answer"] and sent["created_at"]
    [delivered] = indexed.feedback.mine(answer_id, ann, readable={"kb"}).handoffs
    assert (delivered.state, delivered.attempts, delivered.ticket) == ("delivered", 1, "SD-42")
    assert delivered.delivered_at is not None and delivered.next_attempt_at is None
    assert [e["details"]["handoff_id"] for e in _actions(indexed, "handoff_queued")] == [
        queued.handoff_id]
    [done] = _actions(indexed, "handoff_delivered")
    assert (done["actor"], done["details"]["status_code"]) == ("system", 200)
    assert indexed.audit.verify().ok


def test_a_failing_receiver_is_retried_and_the_agent_sees_failed_then_delivered(
        indexed: Services, receiver: Receiver) -> None:
    receiver.answers = [503, 200]
    ann, answer_id = _ask(indexed, "ann")
    indexed.feedback.give(answer_id, ann, NEEDS_PERSON, readable={"kb"})
    assert indexed.handoffs.deliver_due() == 1
    [retrying] = indexed.feedback.mine(answer_id, ann, readable={"kb"}).handoffs
    assert (retrying.state, retrying.attempts) == ("retrying", 1)
    assert retrying.next_attempt_at is not None and retrying.delivered_at is None
    with indexed.sessions() as session:
        assert session.scalars(select(HandoffDelivery.last_error)).one() == "HTTP 503"
    deadline = time.monotonic() + 5
    while not indexed.handoffs.deliver_due():  # once the backoff has passed
        assert time.monotonic() < deadline
        time.sleep(0.01)
    [delivered] = indexed.feedback.mine(answer_id, ann, readable={"kb"}).handoffs
    assert (delivered.state, delivered.attempts) == ("delivered", 2)
    assert len(receiver.requests) == 2
    # the retry is the same hand-off: a receiver dedupes on the delivery id
    assert len({r.headers["X-Vraagbaak-Delivery"] for r in receiver.requests}) == 1
    assert [e["details"]["status_code"] for e in _actions(indexed, "handoff_retrying")] == [503]
    assert len(_actions(indexed, "handoff_delivered")) == 1


def test_a_receiver_that_never_answers_leaves_it_failed(indexed: Services,
                                                        receiver: Receiver) -> None:
    receiver.answers = [500]
    ann, answer_id = _ask(indexed, "ann")
    indexed.feedback.give(answer_id, ann, NEEDS_PERSON, readable={"kb"})
    deadline = time.monotonic() + 5
    while indexed.feedback.mine(answer_id, ann, readable={"kb"}).handoffs[0].state != "failed":
        assert time.monotonic() < deadline
        indexed.handoffs.deliver_due()
        time.sleep(0.01)
    [failed] = indexed.feedback.mine(answer_id, ann, readable={"kb"}).handoffs
    assert (failed.attempts, failed.next_attempt_at, failed.delivered_at) == (3, None, None)
    assert len(receiver.requests) == 3
    assert len(_actions(indexed, "handoff_failed")) == 1


def test_one_handoff_per_answer_per_person_and_solved_sends_nothing(
        indexed: Services, receiver: Receiver) -> None:
    ann, answer_id = _ask(indexed, "ann")
    indexed.feedback.give(answer_id, ann, GivenFeedback(outcome="solved"), readable={"kb"})
    assert _rows(indexed) == 0
    first = indexed.feedback.give(answer_id, ann, NEEDS_PERSON, readable={"kb"})
    # changing back to solved, voting, needing a person again: still the one hand-off
    indexed.feedback.give(answer_id, ann, GivenFeedback(outcome="solved"), readable={"kb"})
    again = indexed.feedback.give(answer_id, ann, GivenFeedback(
        vote="down", reasons=("incomplete",), outcome="needs_person"), readable={"kb"})
    assert [h.handoff_id for h in again.handoffs] == [h.handoff_id for h in first.handoffs]
    assert _rows(indexed) == 1 and len(_actions(indexed, "handoff_queued")) == 1
    indexed.handoffs.deliver_due()
    assert indexed.handoffs.deliver_due() == 0 and len(receiver.requests) == 1
    # an admin who sees ann's answer hands it off for themselves; a stranger cannot at all
    make_user(indexed, "ada", ["admin", "agent"])
    ada = indexed.identity.as_user("ada")
    assert len(indexed.feedback.give(answer_id, ada, NEEDS_PERSON,
                                     readable={"kb"}).handoffs) == 1
    make_user(indexed, "bob", ["agent"])
    bob = indexed.identity.as_user("bob")
    with pytest.raises(NotFound):
        indexed.feedback.give(answer_id, bob, NEEDS_PERSON, readable={"kb"})
    assert _rows(indexed) == 2
    assert indexed.feedback.handoffs(bob) == []
    assert [h.answer_id for h in indexed.feedback.handoffs(ann)] == [answer_id]


def test_the_agent_follows_the_handoff_over_the_api_and_on_the_ask_page(
        client: TestClient, receiver: Receiver) -> None:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    services.access.set_grants("kb", everyone=True)
    ann = make_user(services, "ann", ["agent"], password="ann-password-123")
    bob = make_user(services, "bob", ["agent"])
    r = client.post("/v1/chat", json={"question": QUESTION, "collections": ["kb"]},
                    headers=bearer(ann))
    assert r.status_code == 200, r.text
    answer_id = r.json()["answer_id"]
    url = f"/v1/answers/{answer_id}/feedback"
    r = client.put(url, json={"outcome": "needs_person"}, headers=bearer(ann))
    assert r.status_code == 200, r.text
    [handoff] = r.json()["handoffs"]
    deadline = time.monotonic() + 10  # the server's own sender thread delivers it
    while handoff["state"] != "delivered":
        assert time.monotonic() < deadline, handoff
        time.sleep(0.02)
        [handoff] = client.get(url, headers=bearer(ann)).json()["handoffs"]
    assert handoff["ticket"] == "SD-42" and len(receiver.requests) == 1
    assert "url" not in handoff  # the receiver is the admin's business
    mine = client.get("/v1/handoffs", headers=bearer(ann))
    assert mine.status_code == 200 and mine.json() == [handoff]
    assert client.get("/v1/handoffs", headers=bearer(bob)).json() == []
    assert client.get(url, headers=bearer(bob)).status_code == 404
    page = TestClient(client.app)  # no token, and (below) ann's session cookie
    assert page.get("/v1/handoffs").status_code == 401

    signed_in = services.identity.login("ann", "ann-password-123")
    page.cookies.set(SESSION_COOKIE, signed_in.session_secret.get_secret_value())
    html = page.get(f"/ask/answers/{answer_id}").text
    assert "Handed off to the service desk: delivered (at " in html
    assert "Their ticket: SD-42." in html
    page.cookies.set(LANG_COOKIE, "nl")
    dutch = page.get(f"/ask/answers/{answer_id}").text
    assert "Doorgegeven aan de servicedesk: afgeleverd" in dutch


def test_production_refuses_a_placeholder_handoff_secret() -> None:
    with pytest.raises(ValueError, match=r"handoff\.webhook_secret"):
        Settings(environment="production",
                 handoff=HandoffSettings(webhook_urls=["https://desk.local/hook"],
                                         webhook_secret="change-me"))
    # the review webhook's secret serves when the hand-off has none of its own
    settings = Settings(environment="production",
                        review=ReviewSettings(webhook_secret="a-real-review-secret-42"),
                        handoff=HandoffSettings(webhook_urls=["https://desk.local/hook"]))
    assert settings.handoff.secret(settings.review).get_secret_value() == (
        "a-real-review-secret-42")
    assert Settings(environment="production").handoff.webhook_urls == []


def test_the_migrated_table_is_the_declared_one(services: Services) -> None:
    def ours(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
        if kind == "schema":
            return True
        return (name if kind == "table" else parents.get("table_name")) == "handoffs"

    def declared(obj: Any, name: str | None, kind: str, reflected: bool,
                 compare_to: Any) -> bool:
        table = obj if kind == "table" else getattr(obj, "table", None)
        return getattr(table, "name", None) == "handoffs"

    with services.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": ours, "include_object": declared})
        assert compare_metadata(context, Base.metadata) == []
