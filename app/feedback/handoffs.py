"""Hand-offs: "I still need a person" sends the answer to the ticketing system as a signed
webhook, by the machinery of the approval webhooks (``app.review.webhooks.SignedOutbox``:
the same signature, claim, retries with backoff and worker thread).

``enqueue`` adds one row per configured receiver to the transaction that stores the outcome,
so the two commit together, and only where the person has not handed this answer to that
receiver before: one hand-off per answer per person (the unique constraint decides a race).
Changing the outcome back to "solved" sends nothing and leaves the hand-off as it was. A
receiver may reply with JSON ``{"ticket_id": "..."}``; the reference is kept for the agent.
Every step is audited: queued (by the agent), and each attempt's result (by the system).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.records import AnswerDetail
from app.audit.log import AuditLog
from app.core.principal import Principal
from app.core.settings import HandoffSettings, ReviewSettings
from app.core.tables import utcnow
from app.feedback.records import Handoff, HandoffState
from app.feedback.tables import HandoffDelivery
from app.review.webhooks import MAX_ERROR_CHARS, Claimed, Sent, SignedOutbox

EVENT = "answer.handoff"
TICKET_CHARS = 200


def payload(handoff_id: str, answer: AnswerDetail, agent: Principal,
            at: datetime) -> dict[str, Any]:
    """What the ticketing system gets: the question, the answer as shown, its citations and
    the agent who still needs a person."""
    return {"event": EVENT, "handoff_id": handoff_id, "answer_id": answer.answer_id,
            "question": answer.question, "answer": answer.answer,
            "citations": [{"n": c.n, "collection": c.collection, "document": c.document,
                           "title": c.title, "page": c.page, "quote": c.quote}
                          for c in answer.citations],
            "asked_by": agent.username, "collections": answer.collections,
            "refused": answer.refused, "created_at": at.isoformat()}


def _state(row: HandoffDelivery) -> HandoffState:
    if row.status == "pending":
        return "retrying" if row.attempts else "queued"
    return row.status


def view(row: HandoffDelivery) -> Handoff:
    return Handoff(handoff_id=row.id, answer_id=row.answer_id, state=_state(row),
                   attempts=row.attempts, created_at=row.created_at,
                   delivered_at=row.delivered_at,
                   next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
                   ticket=row.ticket_ref)


def _ticket(body: bytes) -> str:
    """The receiver's ``ticket_id``, if its reply is a JSON object that names one."""
    try:
        reply = json.loads(body)
    except ValueError:
        return ""
    ticket = reply.get("ticket_id") if isinstance(reply, dict) else None
    return str(ticket)[:TICKET_CHARS] if isinstance(ticket, str | int) else ""


class HandoffSender(SignedOutbox):
    table = HandoffDelivery
    subject_column = "answer_id"
    thread_name = "handoffs"
    default_event = EVENT

    def __init__(self, sessions: sessionmaker[Session], settings: HandoffSettings,
                 review: ReviewSettings, audit: AuditLog, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(sessions, audit, review, settings.secret(review), transport=transport)
        self._urls = list(settings.webhook_urls)

    def enqueue(self, session: Session, answer: AnswerDetail, agent: Principal) -> list[str]:
        """Add a hand-off to every receiver this agent has not yet had this answer handed
        to, in the caller's transaction (its commit makes them real); their ids."""
        assert agent.user_id is not None
        done = set(session.scalars(select(HandoffDelivery.url).where(
            HandoffDelivery.answer_id == answer.answer_id,
            HandoffDelivery.user_id == agent.user_id)))
        now, rows = utcnow(), []
        for url in self._urls:
            if url in done:
                continue
            handoff_id = uuid.uuid4().hex
            rows.append(HandoffDelivery(
                id=handoff_id, answer_id=answer.answer_id, user_id=agent.user_id, url=url,
                payload=payload(handoff_id, answer, agent, now), next_attempt_at=now,
                created_at=now))
        session.add_all(rows)
        return [row.id for row in rows]

    def mine_on(self, answer_ids: Iterable[str], user_id: int) -> dict[str, list[Handoff]]:
        """The person's hand-offs of each of ``answer_ids``, oldest first, by answer id."""
        ids = list(answer_ids)
        if not ids:
            return {}
        found: dict[str, list[Handoff]] = {}
        with self._sessions() as session:
            for row in session.scalars(
                    select(HandoffDelivery)
                    .where(HandoffDelivery.user_id == user_id,
                           HandoffDelivery.answer_id.in_(ids))
                    .order_by(HandoffDelivery.created_at, HandoffDelivery.id)):
                found.setdefault(row.answer_id, []).append(view(row))
        return found

    def mine(self, user_id: int, *, limit: int = 100) -> list[Handoff]:
        """The person's hand-offs, newest first."""
        with self._sessions() as session:
            rows = session.scalars(
                select(HandoffDelivery).where(HandoffDelivery.user_id == user_id)
                .order_by(HandoffDelivery.created_at.desc(), HandoffDelivery.id)
                .limit(limit))
            return [view(r) for r in rows]

    def _finish(self, session: Session, job: Claimed, sent: Sent) -> dict[str, Any]:
        if sent.ok:
            return {"last_error": "", "ticket_ref": _ticket(sent.body)}
        error = sent.error or f"HTTP {sent.status_code}"
        return {"last_error": error[:MAX_ERROR_CHARS]}

    def _announce(self, job: Claimed, sent: Sent, attempts: int, status: str | None) -> None:
        action = {"delivered": "handoff_delivered", "failed": "handoff_failed"}.get(
            status or "", "handoff_retrying")
        self._audit.record("system", action, job.subject, handoff_id=job.id, url=job.url,
                           attempts=attempts, status_code=sent.status_code, error=sent.error)
