"""Customer-reply drafts: written by the model through the ``customer_reply`` prompt, owned by
the agent who asked, and never handed out as approved text before a reviewer approves them.

A draft keeps its generation's answer record (retrieval, prompt version, model, snapshot,
citations, support flags), so the reviewer sees exactly what the model saw; the customer text
is the answer with its ``[n]`` markers removed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection as Names
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.grounding import CITATION_MARKER
from app.answering.records import AnswerDetail
from app.answering.service import AnswerService
from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.review.records import AuthorDraft
from app.review.records import Customer as Customer  # re-exported: create() takes one
from app.review.tables import Draft as DraftRow
from app.review.tables import DraftEvent as EventRow
from app.review.views import author_view
from app.review.vocabulary import Tone

LANGUAGES = {"en": "English", "nl": "Dutch", "de": "German", "fr": "French"}


def customer_text(answer: str) -> str:
    """The reply without citation markers: those are for the reviewer, not the customer."""
    return re.sub(r"[ \t]{2,}", " ", CITATION_MARKER.sub("", answer)).strip()


class DraftService:
    """Drafts from the agent's side: create (from a new or an existing answer), read, list
    and resubmit. The reviewer's side is ``app.review.queue``."""

    def __init__(self, sessions: sessionmaker[Session], answers: AnswerService,
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._answers = answers
        self._audit = audit

    def create(self, author: Principal, question: str, collections: list[str], *,
               allowed: Names[str], customer: Customer, tone: Tone) -> AuthorDraft:
        """Generate a reply to a ticket and queue it for review."""
        variables = {"customer_name": customer.name or "the customer", "tone": tone,
                     "language": LANGUAGES.get(customer.language, customer.language)}
        answer = self._answers.answer(question, collections, allowed=allowed, asker=author,
                                      prompt="customer_reply", channel="draft",
                                      variables=variables)
        text = "" if answer.refused else customer_text(answer.answer)
        record = self._answers.get(answer.answer_id, readable=allowed, viewer=author,
                                   audit=False)
        return self._insert(author, record, customer, tone, text)

    def from_answer(self, author: Principal, answer_id: str, *, readable: Names[str],
                    customer: Customer, tone: Tone) -> AuthorDraft:
        """Queue an existing chat answer (its text, citations and provenance) as a draft."""
        record = self._answers.get(answer_id, readable=readable, viewer=author, audit=False)
        text = "" if record.refused else customer_text(record.answer)
        return self._insert(author, record, customer, tone, text)

    def _insert(self, author: Principal, record: AnswerDetail, customer: Customer, tone: Tone,
                text: str) -> AuthorDraft:
        """Store the draft of ``record`` (the answer's provenance) and its creation event."""
        assert author.user_id is not None, "drafts belong to a user"
        draft = DraftRow(id=uuid.uuid4().hex, author_id=author.user_id,
                         author_teams=sorted(author.teams), answer_id=record.answer_id,
                         collections=record.collections, question=record.question,
                         customer=customer.model_dump(), ticket_id=customer.ticket_id,
                         tone=tone, prompt=record.prompt, model_id=record.model,
                         refused=record.refused, generated_text=text, text=text)
        with self._sessions() as session:
            session.add(draft)
            session.flush()
            session.add(EventRow(draft_id=draft.id, actor=author.actor, action="create",
                                 from_state="", to_state="pending"))
            session.commit()
        self._audit.record(author.actor, "draft_created", draft.id, answer_id=draft.answer_id,
                           collections=draft.collections, ticket_id=customer.ticket_id,
                           prompt=draft.prompt, refused=draft.refused)
        return self.view(draft.id, author, readable=draft.collections)

    def load(self, draft_id: str, viewer: Principal, *, readable: Names[str]) -> DraftRow:
        """The draft's row, if ``viewer`` may see it: its author, a reviewer or an admin, and
        only while they may read every collection it drew on. Anyone else: 404."""
        with self._sessions() as session:
            draft = session.get(DraftRow, draft_id)
        if draft is None or not set(draft.collections) <= set(readable) or not (
                draft.author_id == viewer.user_id or viewer.has("reviewer")):
            raise NotFound("draft not found", code="draft_not_found")
        return draft

    def view(self, draft_id: str, viewer: Principal, *, readable: Names[str]) -> AuthorDraft:
        """What the agent sees (``views.author_view``): never approved text before approval."""
        return author_view(self.load(draft_id, viewer, readable=readable))

    def mine(self, author: Principal, *, readable: Names[str],
             limit: int = 500) -> list[AuthorDraft]:
        """The author's latest ``limit`` drafts, newest first, on collections they still read."""
        with self._sessions() as session:
            drafts = session.scalars(select(DraftRow).where(DraftRow.author_id == author.user_id)
                                     .order_by(DraftRow.created_at.desc()).limit(limit)).all()
        return [author_view(d) for d in drafts if set(d.collections) <= set(readable)]

    def resubmit(self, author: Principal, draft_id: str, *, readable: Names[str],
                 text: str | None, note: str) -> AuthorDraft:
        """``changes_requested -> pending``, by the draft's author, optionally with new text."""
        if text is not None and not text.strip():
            raise InvalidInput("the reply text is empty", code="empty_text")
        draft = self.load(draft_id, author, readable=readable)
        if draft.author_id != author.user_id:
            raise NotFound("draft not found", code="draft_not_found")
        values: dict[str, Any] = {"state": "pending", "submitted_at": utcnow(),
                                  "assignee_id": None, "claim_expires_at": None}
        if text is not None:
            values["text"] = text
        with self._sessions() as session:
            done = conditional_update(session, DraftRow, DraftRow.id == draft_id,
                                      DraftRow.state == "changes_requested", **values)
            if done:
                session.add(EventRow(draft_id=draft_id, actor=author.actor, action="resubmit",
                                     from_state="changes_requested", to_state="pending",
                                     note=note))
            session.commit()
        if not done:
            raise Conflict(f"the draft is {draft.state.replace('_', ' ')}: only a draft with "
                           "changes requested can be resubmitted", code="illegal_transition")
        self._audit.record(author.actor, "draft_resubmitted", draft_id,
                           text_changed=text is not None)
        return self.view(draft_id, author, readable=readable)

