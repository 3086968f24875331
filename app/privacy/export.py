"""The audited export of one person's records, for an admin answering a subject-access
request or a works-council audit: their answers (question, answer, times), conversations,
feedback, hand-offs, drafts and NPS pulse rows, oldest first.

Admins only (the HTTP route's ``Admin`` dependency; the CLI's operator is one). Every export
is recorded in the audit trail before it is handed out: who exported whose records, and how
many of each, never their content.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.tables import Answer, Conversation
from app.audit.log import AuditLog
from app.core.errors import Forbidden
from app.core.principal import Principal
from app.core.tables import utcnow
from app.feedback.tables import AnswerFeedback, HandoffDelivery
from app.identity.users import UserService
from app.privacy.records import (
    ExportedAnswer,
    ExportedConversation,
    ExportedDraft,
    ExportedFeedback,
    ExportedHandoff,
    ExportedPulse,
    ExportedUser,
    SubjectExport,
)
from app.pulse.tables import NpsResponse
from app.review.tables import Draft


class PrivacyExport:
    def __init__(self, sessions: sessionmaker[Session], users: UserService,
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._users = users
        self._audit = audit

    def export(self, username: str, by: Principal) -> SubjectExport:
        """``username``'s records (404 ``user_not_found`` for an unknown name)."""
        if not by.is_admin:
            raise Forbidden("exporting a person's records needs the admin role",
                            code="missing_role")
        user = self._users.get(username)
        uid = user.id
        with self._sessions() as session:
            answers = [ExportedAnswer(
                answer_id=a.id, created_at=a.created_at, channel=a.channel,
                question=a.question, answer=a.answer, collections=list(a.collections),
                refused=a.refused, conversation_id=a.conversation_id)
                for a in session.scalars(select(Answer).where(Answer.user_id == uid)
                                         .order_by(Answer.created_at, Answer.id))]
            conversations = [ExportedConversation(
                conversation_id=c.id, title=c.title, created_at=c.created_at,
                updated_at=c.updated_at, deleted_at=c.deleted_at)
                for c in session.scalars(select(Conversation)
                                         .where(Conversation.user_id == uid)
                                         .order_by(Conversation.created_at, Conversation.id))]
            feedback = [ExportedFeedback(
                answer_id=f.answer_id, vote=f.vote, reasons=list(f.reasons), comment=f.comment,
                outcome=f.outcome, created_at=f.created_at, updated_at=f.updated_at)
                for f in session.scalars(select(AnswerFeedback)
                                         .where(AnswerFeedback.user_id == uid)
                                         .order_by(AnswerFeedback.created_at,
                                                   AnswerFeedback.id))]
            handoffs = [ExportedHandoff(
                handoff_id=h.id, answer_id=h.answer_id, status=h.status,
                created_at=h.created_at, delivered_at=h.delivered_at)
                for h in session.scalars(select(HandoffDelivery)
                                         .where(HandoffDelivery.user_id == uid)
                                         .order_by(HandoffDelivery.created_at,
                                                   HandoffDelivery.id))]
            drafts = [ExportedDraft(
                draft_id=d.id, created_at=d.created_at, state=d.state, question=d.question,
                text=d.text, final_text=d.final_text, customer=dict(d.customer),
                ticket_id=d.ticket_id, decided_at=d.decided_at)
                for d in session.scalars(select(Draft).where(Draft.author_id == uid)
                                         .order_by(Draft.created_at, Draft.id))]
            pulse = [ExportedPulse(asked_at=p.asked_at, score=p.score,
                                   answered_at=p.answered_at)
                     for p in session.scalars(select(NpsResponse)
                                              .where(NpsResponse.user_id == uid)
                                              .order_by(NpsResponse.asked_at,
                                                        NpsResponse.id))]
        exported = SubjectExport(
            user=ExportedUser(username=user.username, display_name=user.display_name,
                              roles=list(user.roles), teams=list(user.teams),
                              active=user.active, created_at=user.created_at),
            exported_at=utcnow(), exported_by=by.actor, answers=answers,
            conversations=conversations, feedback=feedback, handoffs=handoffs, drafts=drafts,
            pulse=pulse)
        # recorded before it is handed out: an export nobody can see in the trail never left
        self._audit.record(by.actor, "records_exported", username, **exported.counts())
        return exported
