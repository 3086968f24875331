"""Feedback on answers: give, change, read and withdraw one's own.

A person may give feedback only on an answer they may see, by the very rule that shows it
(``AnswerService.get``: their own answer, or any answer for an admin, while they read every
collection it drew on); on any other the answer is a 404, as for an unknown id. One row per
person per answer: the unique constraint, not a Python check, decides when two requests of
the same person race, and the loser updates the winner's row. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Collection as Names
from collections.abc import Iterable
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.answering.service import AnswerService
from app.audit.log import AuditLog
from app.core.errors import Forbidden, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.feedback.records import Feedback, GivenFeedback, Outcome, Reason, Vote
from app.feedback.tables import AnswerFeedback


def _view(row: AnswerFeedback) -> Feedback:
    return Feedback(answer_id=row.answer_id, vote=row.vote, reasons=list(row.reasons),
                    comment=row.comment, outcome=row.outcome, created_at=row.created_at,
                    updated_at=row.updated_at)


class FeedbackService:
    def __init__(self, sessions: sessionmaker[Session], answers: AnswerService,
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._answers = answers
        self._audit = audit

    def _visible(self, answer_id: str, giver: Principal, readable: Names[str]) -> int:
        """The giver's user id, once the answer is known to be theirs to see (404 if not)."""
        if giver.user_id is None:
            raise Forbidden("feedback is given by a signed-in person", code="no_user")
        self._answers.get(answer_id, readable=readable, viewer=giver, audit=False)
        return giver.user_id

    @staticmethod
    def _row(session: Session, answer_id: str, user_id: int) -> AnswerFeedback | None:
        return session.scalars(select(AnswerFeedback).where(
            AnswerFeedback.answer_id == answer_id, AnswerFeedback.user_id == user_id)).first()

    def give(self, answer_id: str, giver: Principal, given: GivenFeedback, *,
             readable: Names[str]) -> Feedback:
        """Store ``given`` as the giver's feedback on the answer, replacing any earlier."""
        given.check()
        given = given.normalised()
        user_id = self._visible(answer_id, giver, readable)
        for attempt in range(2):
            with self._sessions() as session:
                row = self._row(session, answer_id, user_id)
                changed = row is not None
                if row is None:
                    row = AnswerFeedback(answer_id=answer_id, user_id=user_id)
                    session.add(row)
                # the plain strings are the vocabulary's: ``check`` said so above
                row.vote = cast("Vote | None", given.vote)
                row.reasons = cast("list[Reason]", list(given.reasons))
                row.comment = given.comment
                row.outcome = cast("Outcome | None", given.outcome)
                row.updated_at = utcnow()
                try:
                    session.commit()
                except IntegrityError:  # the same person's other request inserted first
                    session.rollback()
                    if attempt:
                        raise
                    continue
                view = _view(row)
            break
        self._audit.record(giver.actor, "feedback_changed" if changed else "feedback_given",
                           answer_id, vote=view.vote, reasons=view.reasons,
                           outcome=view.outcome, comment_chars=len(view.comment))
        return view

    def mine(self, answer_id: str, giver: Principal, *, readable: Names[str]) -> Feedback:
        user_id = self._visible(answer_id, giver, readable)
        with self._sessions() as session:
            row = self._row(session, answer_id, user_id)
            if row is None:
                raise NotFound("you gave no feedback on this answer",
                               code="feedback_not_found")
            return _view(row)

    def withdraw(self, answer_id: str, giver: Principal, *, readable: Names[str]) -> None:
        user_id = self._visible(answer_id, giver, readable)
        with self._sessions() as session:
            row = self._row(session, answer_id, user_id)
            if row is None:
                raise NotFound("you gave no feedback on this answer",
                               code="feedback_not_found")
            session.delete(row)
            session.commit()
        self._audit.record(giver.actor, "feedback_withdrawn", answer_id)

    def mine_on(self, answer_ids: Iterable[str], giver: Principal) -> dict[str, Feedback]:
        """The giver's feedback on each of ``answer_ids`` they already see (a page's
        answers), by answer id; answers without feedback are left out."""
        ids = list(answer_ids)
        if giver.user_id is None or not ids:
            return {}
        with self._sessions() as session:
            rows = session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.user_id == giver.user_id, AnswerFeedback.answer_id.in_(ids)))
            return {r.answer_id: _view(r) for r in rows}
