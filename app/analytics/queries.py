"""The SQL behind the adoption figures: each query groups its table by (ISO week, person[,
collections]) in the database, so what comes back is at most weeks x people rows, however many
answers are stored (the days a person was active are counted in SQL too). Answers and their
feedback are read from their weekly rollups (``app.analytics.rollups``), drafts and pulse
answers (a few per person per week) from their own tables.
``app.analytics.figures`` folds those rows into teams, roles and periods.

The covering indexes of ``app.analytics.tables`` hold every column these queries read.
``week``, ``day`` and ``minutes_between`` are the only parts that differ between SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Text,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.analytics.tables import AnswerWeek, FeedbackWeek, UserWeek
from app.pulse.tables import NpsResponse
from app.review.tables import Draft


def week(column: Any, dialect: str) -> ColumnElement[Any]:
    """The Monday (UTC) of the ISO week of a stored time. SQLite stores UTC clock text:
    ``weekday 0`` moves to the week's Sunday (a Sunday stays), six days back is its Monday.
    PostgreSQL converts from the session's time zone to UTC first. Literals, not bound
    parameters, so the expression in GROUP BY is the one in SELECT."""
    if dialect == "postgresql":
        return cast(func.date_trunc(literal_column("'week'"),
                                    func.timezone(literal_column("'UTC'"), column)), Date)
    return func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"))


def day(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC calendar day of a stored time (see ``week``)."""
    if dialect == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), column), Date)
    return func.date(column)


def minutes_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    """Whole minutes (rounded) from ``start`` to ``end``."""
    if dialect == "postgresql":
        seconds = extract("epoch", end - start)
        return cast(func.round(seconds / literal_column("60")), Integer)
    return cast(func.round((func.julianday(end) - func.julianday(start))
                           * literal_column("1440")), Integer)


def as_day(value: date | datetime | str) -> date:
    """A ``week`` result as a date (SQLite hands back text, PostgreSQL a date)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _count(condition: Any) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


@dataclass(frozen=True)
class Window:
    """Rows from ``since`` (inclusive) to ``until`` (exclusive), and whether to keep the
    collections apart (the per-collection breakdown) or not (everything else)."""

    since: datetime
    until: datetime
    by_collection: bool = False


class FigureQueries:
    """The grouped rows each figure reads, for one session. Every row starts with (the
    week's Monday, person id, collections as stored text or None)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._dialect = session.get_bind().dialect.name

    def _day(self, column: Any) -> ColumnElement[Any]:
        return week(column, self._dialect).label("week")

    def _grouped(self, stmt: Any, keys: Sequence[Any]) -> Sequence[Any]:
        return self._rows(stmt.group_by(*keys))

    def _rows(self, stmt: Any) -> Sequence[Any]:
        """The rows as the database gives them: Core rows, not ORM results, and the week (the
        first column) as it comes (text on SQLite, a date on PostgreSQL; ``Folder`` keys by
        it, ``dated`` makes the keys dates once). The collection breakdown folds tens of
        thousands of rows, where the per-row work of the ORM and of a date per row cost
        more than the query."""
        return self._session.connection().execute(stmt).all()

    @staticmethod
    def _collections(column: Any, window: Window) -> ColumnElement[Any]:
        if window.by_collection:
            return cast(column, Text).label("collections")
        return literal_column("NULL").label("collections")

    def _weeks(self, table: Any, columns: list[Any], window: Window, *,
               group: bool) -> Sequence[Any]:
        """(week, user, collections, *columns) from a weekly rollup (``app.analytics.rollups``,
        refreshed by the caller in this session): its rows as they are, or summed per person
        (``group``) when the collections are not kept apart."""
        coll = (table.collections if window.by_collection
                else literal_column("NULL").label("collections"))
        # the week as the driver hands it over, like every other query's week (SQLite: text)
        raw_week = type_coerce(table.week, String).label("week")
        stmt = select(raw_week, table.user_id, coll, *columns).where(
            table.week >= window.since.date(), table.week < window.until.date())
        if group:
            return self._grouped(stmt, [table.week, table.user_id])
        return self._rows(stmt)

    def answers(self, window: Window) -> Sequence[Any]:
        """(week, user, collections, days active, questions, refused)."""
        table = AnswerWeek if window.by_collection else UserWeek
        return self._weeks(table, [table.days, table.questions, table.refused], window,
                           group=False)

    def feedback(self, window: Window) -> Sequence[Any]:
        """(week, asker, collections, thumbs up, votes, solved, needs a person), by the week
        of the answer the feedback is on."""
        f = FeedbackWeek
        if window.by_collection:
            return self._weeks(f, [f.up, f.votes, f.solved, f.needs_person], window,
                               group=False)
        return self._weeks(f, [func.sum(f.up), func.sum(f.votes), func.sum(f.solved),
                               func.sum(f.needs_person)], window, group=True)

    def _ids(self, column: Any) -> ColumnElement[Any]:
        """The distinct non-null ids of a group as one comma-separated text."""
        if self._dialect == "postgresql":
            return func.string_agg(cast(column, Text).distinct(), literal_column("','"))
        return func.group_concat(column.distinct())

    def answers_by_collections(self, window: Window) -> Sequence[Any]:
        """(week, askers' ids as text, collections, days active, questions, refused): one row
        per week and collections, not per person too. The per-collection figures need the
        people only as a set, and folding one row per person per week per collections in
        Python was most of that breakdown's time (``bench.analytics``)."""
        a = AnswerWeek
        week_ = type_coerce(a.week, String).label("week")
        return self._grouped(
            select(week_, self._ids(a.user_id), a.collections, func.sum(a.days),
                   func.sum(a.questions), func.sum(a.refused))
            .where(a.week >= window.since.date(), a.week < window.until.date()),
            [a.week, a.collections])

    def feedback_by_collections(self, window: Window) -> Sequence[Any]:
        """(week, voters' ids, ids of those who gave an outcome, collections, thumbs up, votes,
        solved, needs a person), one row per week and collections."""
        f = FeedbackWeek
        week_ = type_coerce(f.week, String).label("week")
        return self._grouped(
            select(week_, self._ids(case((f.votes > 0, f.user_id))),
                   self._ids(case((f.solved + f.needs_person > 0, f.user_id))),
                   f.collections, func.sum(f.up), func.sum(f.votes), func.sum(f.solved),
                   func.sum(f.needs_person))
            .where(f.week >= window.since.date(), f.week < window.until.date()),
            [f.week, f.collections])

    def drafts(self, window: Window) -> Sequence[Any]:
        """(week, author, collections, requested, approved, decided, approved as is)."""
        d, coll = self._day(Draft.created_at), self._collections(Draft.collections, window)
        approved = Draft.state == "approved"
        stmt = select(d, Draft.author_id, coll, func.count(), _count(approved),
                      _count(Draft.state.in_(("approved", "rejected"))),
                      _count(approved & (Draft.edit_distance == 0))).where(
            Draft.created_at >= window.since, Draft.created_at < window.until)
        return self._grouped(stmt, [d, Draft.author_id] + ([coll] if window.by_collection
                                                           else []))

    def approval_minutes(self, window: Window) -> Sequence[Any]:
        """(week, author, collections, minutes to approval, drafts): approvals counted per
        whole minute, so the percentiles read a histogram, not every draft."""
        d, coll = self._day(Draft.created_at), self._collections(Draft.collections, window)
        minutes = minutes_between(Draft.created_at, Draft.decided_at,
                                  self._dialect).label("minutes")
        stmt = select(d, Draft.author_id, coll, minutes, func.count()).where(
            Draft.created_at >= window.since, Draft.created_at < window.until,
            Draft.state == "approved", Draft.decided_at.is_not(None))
        keys: list[Any] = [d, Draft.author_id, minutes]
        if window.by_collection:
            keys.append(coll)
        return self._grouped(stmt, keys)

    def pulse(self, window: Window) -> Sequence[Any]:
        """(week, respondent, None, answers, promoters, detractors), by the week asked."""
        d = self._day(NpsResponse.asked_at)
        score = NpsResponse.score
        stmt = select(d, NpsResponse.user_id, literal_column("NULL"), func.count(),
                      _count(score >= 9), _count(score <= 6)).where(
            NpsResponse.asked_at >= window.since, NpsResponse.asked_at < window.until,
            score.is_not(None))
        return self._grouped(stmt, [d, NpsResponse.user_id])
