"""Feedback on answers: give, change, read and withdraw one's own.

A person may give feedback only on an answer they may see, by the very rule that shows it
(``AnswerService.get``: their own answer, or any answer for an admin, while they read every
collection it drew on); on any other the answer is a 404, as for an unknown id. One row per
person per answer: the unique constraint, not a Python check, decides when two requests of
the same person race, and the loser updates the winner's row. Every change is audited.

"I still need a person" also hands the answer off to the ticketing system
(``app.feedback.handoffs``), in the same transaction, once per person per answer; the
feedback then carries where each hand-off stands, so the agent can follow it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Collection as Names
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.answering.records import AnswerDetail
from app.answering.service import AnswerService
from app.audit.log import AuditLog
from app.core.errors import Forbidden, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.feedback.handoffs import HandoffSender
from app.feedback.records import Feedback, GivenFeedback, Handoff, Outcome, Reason, Vote
from app.feedback.tables import AnswerFeedback


def _view(row: AnswerFeedback, handoffs: list[Handoff] | None = None) -> Feedback:
    return Feedback(answer_id=row.answer_id, vote=row.vote, reasons=list(row.reasons),
                    comment=row.comment, outcome=row.outcome, created_at=row.created_at,
                    updated_at=row.updated_at, handoffs=handoffs or [])


class FeedbackService:
    def __init__(self, sessions: sessionmaker[Session], answers: AnswerService,
                 audit: AuditLog, handoffs: HandoffSender | None = None,
                 observe: Callable[[AnswerDetail, Principal, Feedback], None] | None = None,
                 withdrawn: Callable[[AnswerDetail, Principal], None] | None = None
                 ) -> None:
        self._sessions = sessions
        self._observe = observe  # e.g. knowledge issues; sees every feedback given
        self._withdrawn = withdrawn  # ... and every feedback withdrawn (after it is gone)
        self._answers = answers
        self._audit = audit
        self._handoffs = handoffs  # None: "I still need a person" hands nothing off

    def _visible(self, answer_id: str, giver: Principal, readable: Names[str]) -> int:
        """The giver's user id, once the answer is known to be theirs to see (404 if not)."""
        return self._seen(answer_id, giver, readable)[0]

    def _seen(self, answer_id: str, giver: Principal,
              readable: Names[str]) -> tuple[int, AnswerDetail]:
        if giver.user_id is None:
            raise Forbidden("feedback is given by a signed-in person", code="no_user")
        answer = self._answers.get(answer_id, readable=readable, viewer=giver, audit=False)
        return giver.user_id, answer

    def _handed_off(self, answer_ids: Iterable[str], user_id: int) -> dict[str, list[Handoff]]:
        return self._handoffs.mine_on(answer_ids, user_id) if self._handoffs else {}

    @classmethod
    def _own(cls, session: Session, answer_id: str, user_id: int) -> AnswerFeedback:
        """The person's feedback on the answer; 404 if they gave none."""
        row = cls._row(session, answer_id, user_id)
        if row is None:
            raise NotFound("you gave no feedback on this answer", code="feedback_not_found")
        return row

    @staticmethod
    def _row(session: Session, answer_id: str, user_id: int) -> AnswerFeedback | None:
        return session.scalars(select(AnswerFeedback).where(
            AnswerFeedback.answer_id == answer_id, AnswerFeedback.user_id == user_id)).first()

    def give(self, answer_id: str, giver: Principal, given: GivenFeedback, *,
             readable: Names[str]) -> Feedback:
        """Store ``given`` as the giver's feedback on the answer, replacing any earlier."""
        given.check()
        given = given.normalised()
        user_id, answer = self._seen(answer_id, giver, readable)
        handoff_ids: list[str] = []
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
                if given.outcome == "needs_person" and self._handoffs is not None:
                    handoff_ids = self._handoffs.enqueue(session, answer, giver)
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
        if handoff_ids and self._handoffs is not None:
            self._handoffs.notify()
            for handoff_id in handoff_ids:
                self._audit.record(giver.actor, "handoff_queued", answer_id,
                                   handoff_id=handoff_id)
        if self._observe is not None:
            self._observe(answer, giver, view)
        return view.model_copy(update={
            "handoffs": self._handed_off([answer_id], user_id).get(answer_id, [])})

    def mine(self, answer_id: str, giver: Principal, *, readable: Names[str]) -> Feedback:
        user_id = self._visible(answer_id, giver, readable)
        with self._sessions() as session:
            row = self._own(session, answer_id, user_id)
            view = _view(row)
        return view.model_copy(update={
            "handoffs": self._handed_off([answer_id], user_id).get(answer_id, [])})

    def withdraw(self, answer_id: str, giver: Principal, *, readable: Names[str]) -> None:
        user_id, answer = self._seen(answer_id, giver, readable)
        with self._sessions() as session:
            row = self._own(session, answer_id, user_id)
            session.delete(row)
            session.commit()
        self._audit.record(giver.actor, "feedback_withdrawn", answer_id)
        if self._withdrawn is not None:
            self._withdrawn(answer, giver)

    def handoffs(self, giver: Principal) -> list[Handoff]:
        """The giver's own hand-offs, newest first (at most 100)."""
        if giver.user_id is None:
            raise Forbidden("hand-offs are a signed-in person's", code="no_user")
        return self._handoffs.mine(giver.user_id) if self._handoffs else []

    def mine_on(self, answer_ids: Iterable[str], giver: Principal) -> dict[str, Feedback]:
        """The giver's feedback on each of ``answer_ids`` they already see (a page's
        answers), by answer id; answers without feedback are left out."""
        ids = list(answer_ids)
        if giver.user_id is None or not ids:
            return {}
        with self._sessions() as session:
            rows = session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.user_id == giver.user_id, AnswerFeedback.answer_id.in_(ids)))
            handed = self._handed_off(ids, giver.user_id)
            return {r.answer_id: _view(r, handed.get(r.answer_id)) for r in rows}
