"""A hand-made database for the retention and export tests: ann's old and new records in
every table that holds question texts, written as rows (the flows that make them are tested
elsewhere; here only what is stored matters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.answering.tables import Answer, Conversation
from app.core.tables import utcnow
from app.feedback.tables import AnswerFeedback, HandoffDelivery
from app.pulse.tables import NpsResponse
from app.review.tables import Draft, DraftEvent, EvalCandidate, WebhookAttempt, WebhookDelivery
from app.wiring import Services
from tests.access import make_user

OLD_DAYS = 400  # beyond the default 365


@dataclass
class Seeded:
    user_id: int
    old_answer: str = "old-answer"
    new_answer: str = "new-answer"
    kept_answer: str = "kept-answer"  # old, but a draft in review reads it
    old_conversation: str = "old-conv"
    new_conversation: str = "new-conv"
    done_draft: str = "done-draft"  # old and approved
    open_draft: str = "open-draft"  # old and still pending
    new_draft: str = "new-draft"


def _answer(id_: str, user_id: int, at: datetime, conversation: str | None) -> Answer:
    return Answer(
        id=id_, created_at=at, user_id=user_id, conversation_id=conversation,
        question=f"secret question {id_}", collections=["kb"],
        retrieved=[{"n": 1, "chunk_id": "c1", "collection": "kb", "score": 0.5}],
        prompt_id="answer", prompt_version=1, model_id="fake", snapshot_ids={"kb": "s1"},
        answer=f"secret answer {id_} [1]", generated=f"secret generated {id_}",
        citations=[{"n": 1, "chunk_id": "c1", "collection": "kb", "document": "vpn.md",
                    "title": "VPN", "quote": f"secret quote {id_}"}],
        sentences=[{"text": f"secret sentence {id_}", "supported": True, "citations": [1]}],
        refused=False, latency_ms={"total": 1.0})


def _draft(id_: str, user_id: int, answer_id: str, at: datetime, state: str) -> Draft:
    done = state in ("approved", "rejected")
    return Draft(id=id_, created_at=at, submitted_at=at, author_id=user_id, answer_id=answer_id,
                 collections=["kb"], question=f"secret draft question {id_}",
                 customer={"name": "Mrs Secret", "language": "nl", "ticket_id": "T-1"},
                 ticket_id="T-1", prompt="customer_reply@1", model_id="fake",
                 generated_text=f"secret generated reply {id_}", text=f"secret reply {id_}",
                 final_text=f"secret final {id_}" if state == "approved" else None,
                 edit_distance=0.0 if state == "approved" else None, state=state,
                 decided_at=at if done else None, decided_by=user_id if done else None,
                 comment="secret reviewer comment" if done else "")


def seed(services: Services, username: str = "ann") -> Seeded:
    make_user(services, username, ["agent"])
    uid = services.users.get(username).id
    s = Seeded(user_id=uid)
    now = utcnow()
    old = now - timedelta(days=OLD_DAYS)
    rows: list[Any] = [
        Conversation(id=s.old_conversation, user_id=uid, title="secret old title",
                     created_at=old, updated_at=old),
        Conversation(id=s.new_conversation, user_id=uid, title="new title", created_at=now,
                     updated_at=now),
    ]
    rows += [_answer(s.old_answer, uid, old, s.old_conversation),
             _answer(s.kept_answer, uid, old, None),
             _answer(s.new_answer, uid, now, s.new_conversation)]
    rows += [
        AnswerFeedback(answer_id=s.old_answer, user_id=uid, vote="down",
                       reasons=["incomplete"], comment="secret old comment", outcome="solved",
                       created_at=old, updated_at=old),
        AnswerFeedback(answer_id=s.new_answer, user_id=uid, vote="up", reasons=[],
                       comment="new comment", created_at=now, updated_at=now),
        HandoffDelivery(id="old-handoff", answer_id=s.old_answer, user_id=uid,
                        url="http://tickets.invalid/hook",
                        payload={"question": "secret question"}, status="delivered",
                        created_at=old, next_attempt_at=old, delivered_at=old),
    ]
    rows += [_draft(s.done_draft, uid, s.old_answer, old, "approved"),
             _draft(s.open_draft, uid, s.kept_answer, old, "pending"),
             _draft(s.new_draft, uid, s.new_answer, now, "rejected")]
    rows += [
        DraftEvent(draft_id=s.done_draft, at=old, actor=username, action="approve",
                   from_state="in_review", to_state="approved", note="secret note"),
        DraftEvent(draft_id=s.open_draft, at=old, actor=username, action="create",
                   from_state="", to_state="pending", note="open note"),
        WebhookDelivery(id="old-delivery", draft_id=s.done_draft, url="http://t.invalid",
                        payload={"final_text": "secret final"}, status="delivered",
                        created_at=old, next_attempt_at=old, delivered_at=old),
        EvalCandidate(id="old-candidate", draft_id=s.done_draft, created_by=username,
                      case={"question": "secret"}, created_at=old),
        NpsResponse(user_id=uid, asked_at=old, score=9, answered_at=old),
        NpsResponse(user_id=uid, asked_at=now, score=None, answered_at=now),
    ]
    with services.sessions() as session:
        # parents first: the rows' foreign keys hold on PostgreSQL at every flush
        for row in rows:
            session.add(row)
            session.flush()
        session.add(WebhookAttempt(delivery_id="old-delivery", at=old, status_code=200))
        session.commit()
    return s
