"""Weekly rollups of the answers and their feedback: what the figures read, so a request over a
year of a company's questions reads a few thousand rows per period, not a million answers.

Three tables, one row per person per ISO week: ``UserWeek`` (days active, questions, refused:
the company, team and role figures), and per searched collections ``AnswerWeek`` and
``FeedbackWeek`` (the per-collection figures, and the feedback on the week's answers).

``refresh`` brings them up to date inside the figures' own transaction, in SQL
(``INSERT ... SELECT ... GROUP BY``; no row passes through Python):

* finished weeks from ``complete_until`` on (the first time: every finished week) are rolled
  up from the answers. The current week is not: the figures read finished weeks only ("the
  last N complete weeks", a baseline of past weeks), so a week is rolled up once, by the first
  request after it ends;
* earlier weeks whose answers got feedback since ``checked_at`` (``answer_feedback.updated_at``
  is indexed) are redone, and so are the weeks in ``redo``, where feedback was withdrawn
  (``Rollups.note_withdrawn``: a deleted row leaves nothing to find it by).

Answers are stored as they are given, never back-dated, so a finished week stays right once
rolled up. The first refresh over a big history takes seconds (once: ``bench.analytics``
prints it); later ones cost a check of the feedback changed since, and the first request of a
week rolls up the week before (about 19,000 answers for a 250-person company). Evaluation
runs' answers (``channel == "eval"``) and answers without a person (the server's command line)
don't count: they are not anyone's use of the assistant. Two processes refreshing at once:
PostgreSQL serialises them on the state row (``FOR UPDATE``), SQLite on its one writer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Text, case, cast, delete, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.analytics.queries import as_day, day, week
from app.analytics.tables import AnswerWeek, FeedbackWeek, RollupState, UserWeek
from app.answering.tables import Answer
from app.core.tables import utcnow
from app.feedback.tables import AnswerFeedback

STATE_ID = 1
TABLES = (UserWeek, AnswerWeek, FeedbackWeek)


def monday_of(at: date) -> date:
    return at - timedelta(days=at.weekday())


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class Rollups:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def note_withdrawn(self, answer_created_at: datetime) -> None:
        """Feedback on an answer of that week was withdrawn: redo it at the next refresh."""
        with self._sessions() as session:
            state = session.get(RollupState, STATE_ID, with_for_update=True)
            monday = monday_of(answer_created_at.astimezone(UTC).date())
            if (state is not None and monday < state.complete_until
                    and monday.isoformat() not in state.redo):
                state.redo = [*state.redo, monday.isoformat()]
                session.commit()


def refresh(session: Session) -> None:
    """Bring the rollups up to date in ``session``'s transaction (the caller commits)."""
    dialect = session.get_bind().dialect.name
    started = utcnow()  # before reading: a vote given meanwhile is redone next time
    this_week = monday_of(started.date())
    state = session.get(RollupState, STATE_ID, with_for_update=True)
    if state is None:
        state = RollupState(id=STATE_ID, complete_until=this_week, checked_at=started, redo=[])
        session.add(state)
        session.flush()
        _rebuild(session, dialect, None, [], this_week)
    else:
        since = state.complete_until
        redo = {date.fromisoformat(d) for d in state.redo}
        touched = session.execute(
            select(week(Answer.created_at, dialect)).distinct().select_from(AnswerFeedback)
            .join(Answer, Answer.id == AnswerFeedback.answer_id)
            .where(AnswerFeedback.updated_at >= state.checked_at,
                   Answer.created_at < _midnight(since))).scalars()
        redo |= {as_day(d) for d in touched}
        _rebuild(session, dialect, since, sorted(d for d in redo if d < since), this_week)
    state.complete_until = this_week
    state.checked_at = started
    state.redo = []


def _rebuild(session: Session, dialect: str, since: date | None, redo: list[date],
             until: date) -> None:
    """Redo the weeks from ``since`` (None: all) to ``until`` (a Monday, not included) and
    the weeks of ``redo`` (Mondays)."""
    span: list[Any] = [] if since is None else [Answer.created_at >= _midnight(since)]
    if redo:
        span = [or_(*span, *(Answer.created_at.between(
            _midnight(m), _midnight(m + timedelta(weeks=1)) - timedelta(microseconds=1))
            for m in redo))]
    span.append(Answer.created_at < _midnight(until))
    for table in TABLES:
        where = [] if since is None else [or_(table.week >= since, table.week.in_(redo))]
        session.execute(delete(table).where(*where),
                        execution_options={"synchronize_session": False})
    w = week(Answer.created_at, dialect).label("week")
    coll = cast(Answer.collections, Text).label("collections")
    days = func.count(day(Answer.created_at, dialect).distinct())
    counted = [Answer.user_id.is_not(None), Answer.channel != "eval", *span]
    for table, keys in ((UserWeek, [w, Answer.user_id]),
                        (AnswerWeek, [w, Answer.user_id, coll])):
        names = ["week", "user_id", *(["collections"] if table is AnswerWeek else []),
                 "days", "questions", "refused"]
        rows = (select(*keys, days, func.count(), _count(Answer.refused))
                .where(*counted).group_by(*keys))
        session.execute(insert(table).from_select(names, rows))
    # the span's answers first, then their feedback by its answer_id index: left to itself
    # SQLite's planner walks every feedback row and looks its answer up (0.2 s at 200k rows
    # for a day's 3k answers), so the answers are a materialised CTE the join starts from
    spanned = (select(Answer.id, w, Answer.user_id.label("user_id"), coll)
               .where(*counted).cte("spanned").prefix_with("MATERIALIZED"))
    f = AnswerFeedback
    feedback = (select(spanned.c.week, spanned.c.user_id, spanned.c.collections,
                       _count(f.vote == "up"), _count(f.vote.is_not(None)),
                       _count(f.outcome == "solved"), _count(f.outcome == "needs_person"))
                .select_from(spanned).join(f, f.answer_id == spanned.c.id)
                .group_by(spanned.c.week, spanned.c.user_id, spanned.c.collections))
    session.execute(insert(FeedbackWeek).from_select(
        ["week", "user_id", "collections", "up", "votes", "solved", "needs_person"], feedback))
