"""The NPS pulse: is it due for a person, show it, take their score or their dismissal.

A person is asked at most once per ``pulse.period_days``: the first time the question is
shown (``show``, the ask page) a row records ``asked_at``; until they answer or dismiss it
the same open question is shown again (one ask, however many page loads), and once they do,
``answered_at`` is set (with the score, or with ``score`` None for a dismissal) and nothing is
asked again before ``asked_at + period``. An open question that outlives the period counts
as asked and unanswered; the next one is a new row. A person is first asked after their
``pulse.first_ask_after``-th question, so a new user is not asked on day one.

API clients may answer without ``show``: ``answer`` and ``dismiss`` then record the ask and
the response in one row.

The audit trail records *that* a person answered or dismissed the pulse, never the score.
A score per person is personal data: it lives in ``nps_responses`` only, where an admin's
export shows it to its subject and the adoption figures read it per team behind the k
threshold. The audit log is append-only and kept whole, so a score written there could never
be removed and would be readable to every admin who reads the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.tables import Answer
from app.audit.log import AuditLog
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.core.settings import PulseSettings
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.pulse.records import SCORE_MAX, SCORE_MIN, NotDue, PulseStatus
from app.pulse.tables import NpsResponse


@dataclass(frozen=True)
class _Standing:
    """Where one person stands: the open row (shown, not yet answered) or why not due."""

    why_not: NotDue | None
    open_id: int | None = None
    asked_at: datetime | None = None
    next_at: datetime | None = None

    def status(self) -> PulseStatus:
        return PulseStatus(due=self.why_not is None, why_not=self.why_not,
                           asked_at=self.asked_at, next_at=self.next_at)


class PulseService:
    def __init__(self, sessions: sessionmaker[Session], settings: PulseSettings,
                 audit: AuditLog) -> None:
        self._sessions = sessions
        self._settings = settings
        self._audit = audit

    @property
    def _period(self) -> timedelta:
        return timedelta(days=self._settings.period_days)

    def _standing(self, session: Session, user: Principal, now: datetime) -> _Standing:
        if not self._settings.enabled:
            return _Standing("disabled")
        if user.user_id is None:
            return _Standing("no_user")
        last = session.scalars(
            select(NpsResponse).where(NpsResponse.user_id == user.user_id,
                                      NpsResponse.asked_at > now - self._period)
            .order_by(NpsResponse.asked_at.desc(), NpsResponse.id.desc()).limit(1)).first()
        if last is not None:
            if last.answered_at is None:
                return _Standing(None, last.id, last.asked_at)
            return _Standing("asked_this_period", next_at=last.asked_at + self._period)
        wanted = self._settings.first_ask_after
        if wanted:
            # count no further than needed: the answers' user_id index serves it
            asked = session.scalar(select(func.count()).select_from(
                select(Answer.id).where(Answer.user_id == user.user_id).limit(wanted)
                .subquery()))
            if (asked or 0) < wanted:
                return _Standing("too_few_questions")
        return _Standing(None)

    def status(self, user: Principal) -> PulseStatus:
        """Whether the pulse is due for ``user`` now; changes nothing."""
        with self._sessions() as session:
            return self._standing(session, user, utcnow()).status()

    def show(self, user: Principal) -> PulseStatus:
        """The pulse as a page shows it: when due and not yet shown this period, record the
        ask (the period starts now)."""
        now = utcnow()
        with self._sessions() as session:
            standing = self._standing(session, user, now)
            if standing.why_not is not None or standing.open_id is not None:
                return standing.status()
            assert user.user_id is not None
            session.add(NpsResponse(user_id=user.user_id, asked_at=now))
            session.commit()
        self._audit.record(user.actor, "pulse_asked", "pulse")
        return _Standing(None, asked_at=now).status()

    def answer(self, user: Principal, score: int) -> PulseStatus:
        """Store the person's score (0-10) for this period's pulse."""
        if isinstance(score, bool) or not SCORE_MIN <= score <= SCORE_MAX:
            raise InvalidInput(f"score is a whole number {SCORE_MIN}-{SCORE_MAX}",
                               code="invalid_score")
        return self._respond(user, score)

    def dismiss(self, user: Principal) -> PulseStatus:
        """The person does not want to answer: no score, and no new ask this period."""
        return self._respond(user, None)

    def _respond(self, user: Principal, score: int | None) -> PulseStatus:
        now = utcnow()
        with self._sessions() as session:
            standing = self._standing(session, user, now)
            if standing.why_not is not None:
                raise Conflict(_NOT_DUE[standing.why_not], code="pulse_not_due")
            assert user.user_id is not None
            asked_at = standing.asked_at or now
            if standing.open_id is None:
                session.add(NpsResponse(user_id=user.user_id, asked_at=now, score=score,
                                        answered_at=now))
            elif not conditional_update(session, NpsResponse,
                                        NpsResponse.id == standing.open_id,
                                        NpsResponse.answered_at.is_(None),
                                        score=score, answered_at=now):
                # the same person's other request (another tab) answered first
                raise Conflict(_NOT_DUE["asked_this_period"], code="pulse_not_due")
            session.commit()
        # that they responded, never the score (see the module docstring)
        self._audit.record(user.actor, "pulse_dismissed" if score is None else
                           "pulse_answered", "pulse")
        return _Standing("asked_this_period", next_at=asked_at + self._period).status()


_NOT_DUE: dict[NotDue, str] = {
    "disabled": "the pulse is switched off",
    "asked_this_period": "you were asked already this period",
    "too_few_questions": "the pulse is asked once you have asked a few questions",
    "no_user": "the pulse is for a signed-in person",
}
