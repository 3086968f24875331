"""The analytics baseline, and the indexes the adoption figures read.

``analytics_baselines`` keeps every baseline an admin chose, newest last: the current one is
the row with the highest id, the others are its history (each change is audited as well).

The indexes belong to other features' tables but exist only for these figures, so they are
declared here, beside the queries that need them (``app.analytics.queries``): each holds every
column its query reads, so SQLite answers from the index alone (a covering index) and
PostgreSQL reads a narrow range of it instead of the table with its texts. The collections list
is indexed as its stored text (a PostgreSQL ``json`` value has no btree operator class). The
pulse's rows are few (one per person per period) and its own ``asked_at`` index serves them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, Integer, String, Text, cast
from sqlalchemy.orm import Mapped, mapped_column

from app.answering.tables import Answer
from app.core.tables import Base, utcnow
from app.feedback.tables import AnswerFeedback
from app.review.tables import Draft


class AnalyticsBaseline(Base):
    """A period the admin chose to compare against: ``start`` to ``end``, both inclusive
    days (UTC), widened to whole ISO weeks when the figures are computed."""

    __tablename__ = "analytics_baselines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserWeek(Base):
    """One person's questions in one ISO week (``week``: its Monday, UTC): on how many days,
    how many, how many refused. The rollup the company, team and role figures read instead of
    the answers themselves (``app.analytics.rollups``)."""

    __tablename__ = "analytics_user_weeks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    questions: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)


class AnswerWeek(Base):
    """The same per searched collections (as stored text), for the per-collection figures and
    the feedback join."""

    __tablename__ = "analytics_answer_weeks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collections: Mapped[str] = mapped_column(Text, primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    questions: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)


class FeedbackWeek(Base):
    """The feedback on one person's answers of one ISO week (the week of the answer, not of
    the vote), per searched collections."""

    __tablename__ = "analytics_feedback_weeks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collections: Mapped[str] = mapped_column(Text, primary_key=True)
    up: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer)
    solved: Mapped[int] = mapped_column(Integer)
    needs_person: Mapped[int] = mapped_column(Integer)


class RollupState(Base):
    """How far the rollups are complete: every week before the one of ``complete_until`` (a
    Monday) is rolled up, counting feedback changed before ``checked_at``; ``redo`` lists the
    Mondays of earlier weeks whose feedback was withdrawn since (a withdrawal leaves no row to
    notice it by). One row, id 1."""

    __tablename__ = "analytics_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complete_until: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column()
    redo: Mapped[list[str]] = mapped_column(JSON, default=list)


# with the id, so the feedback query joins its answers from this index alone as well
ANSWERS_INDEX = Index("ix_answers_analytics", Answer.created_at, Answer.user_id,
                      Answer.refused, cast(Answer.collections, Text), Answer.id)
FEEDBACK_INDEX = Index("ix_answer_feedback_analytics", AnswerFeedback.answer_id,
                       AnswerFeedback.vote, AnswerFeedback.outcome)
DRAFTS_INDEX = Index("ix_drafts_analytics", Draft.created_at, Draft.author_id, Draft.state,
                     Draft.edit_distance, Draft.decided_at, cast(Draft.collections, Text))
