"""An agent's conversations: threads of answers they can start, continue and delete.

A conversation belongs to the one user who started it; anyone else gets the same 404 as for
an unknown id, admins included (a thread is personal; the answers in it stay visible to admins
through the answer records). A thread lists only the answers whose collections its owner may
still read, so a revoked grant hides them here as everywhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection as Names
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.records import AnswerDetail
from app.answering.tables import Answer as AnswerRow
from app.answering.tables import Conversation as ConversationRow
from app.audit.log import AuditLog
from app.core.errors import NotFound
from app.core.principal import Principal
from app.core.tables import utcnow

TITLE_CHARS = 80


class ConversationSummary(BaseModel):
    conversation_id: str
    title: str = Field(description="The first question, cut to 80 characters.")
    answers: int
    created_at: datetime
    updated_at: datetime


class Conversation(ConversationSummary):
    thread: list[AnswerDetail] = Field(description="Its answers, oldest first.")


class ConversationService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog) -> None:
        self._sessions = sessions
        self._audit = audit

    def start(self, owner: Principal, title: str) -> ConversationSummary:
        assert owner.user_id is not None, "conversations belong to a user"
        title = " ".join(title.split())[:TITLE_CHARS] or "…"
        row = ConversationRow(id=uuid.uuid4().hex, user_id=owner.user_id, title=title)
        with self._sessions() as session:
            session.add(row)
            session.commit()
        return ConversationSummary(conversation_id=row.id, title=row.title, answers=0,
                                   created_at=row.created_at, updated_at=row.updated_at)

    def require(self, session: Session, owner: Principal, conversation_id: str,
                ) -> ConversationRow:
        row = session.get(ConversationRow, conversation_id)
        if row is None or row.deleted_at is not None or row.user_id != owner.user_id:
            raise NotFound("conversation not found", code="conversation_not_found")
        return row

    def touch(self, owner: Principal, conversation_id: str) -> None:
        """Check ownership (404 otherwise) and mark the thread as just used."""
        with self._sessions() as session:
            self.require(session, owner, conversation_id).updated_at = utcnow()
            session.commit()

    def mine(self, owner: Principal, *, limit: int = 50) -> list[ConversationSummary]:
        """The owner's latest threads, most recently used first."""
        owned = select(ConversationRow.id).where(ConversationRow.user_id == owner.user_id)
        counts = (select(AnswerRow.conversation_id, func.count().label("n"))
                  .where(AnswerRow.conversation_id.in_(owned))  # the index, not a full scan
                  .group_by(AnswerRow.conversation_id).subquery())
        with self._sessions() as session:
            rows = session.execute(
                select(ConversationRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.conversation_id == ConversationRow.id)
                .where(ConversationRow.user_id == owner.user_id,
                       ConversationRow.deleted_at.is_(None))
                .order_by(ConversationRow.updated_at.desc()).limit(limit)).all()
        return [ConversationSummary(conversation_id=c.id, title=c.title, answers=int(n),
                                    created_at=c.created_at, updated_at=c.updated_at)
                for c, n in rows]

    def get(self, owner: Principal, conversation_id: str, *,
            readable: Names[str]) -> Conversation:
        with self._sessions() as session:
            row = self.require(session, owner, conversation_id)
            answers = session.scalars(select(AnswerRow)
                                      .where(AnswerRow.conversation_id == conversation_id)
                                      .order_by(AnswerRow.created_at)).all()
        thread = [AnswerDetail.of(a) for a in answers if set(a.collections) <= set(readable)]
        return Conversation(conversation_id=row.id, title=row.title, answers=len(thread),
                            created_at=row.created_at, updated_at=row.updated_at,
                            thread=thread)

    def delete(self, owner: Principal, conversation_id: str) -> None:
        with self._sessions() as session:
            self.require(session, owner, conversation_id).deleted_at = utcnow()
            session.commit()
        self._audit.record(owner.actor, "conversation_deleted", conversation_id)
