"""The baseline period: chosen by an admin, kept with its history, every change audited.

The period is stored as the days the admin chose; the figures read it as whole ISO weeks (the
week holding its first day to the week holding its last), so a baseline and "now" are always
compared week for week.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.analytics.figures import iso_week, monday
from app.analytics.records import Baseline, Period
from app.analytics.tables import AnalyticsBaseline
from app.audit.log import AuditLog
from app.core.errors import Forbidden
from app.core.principal import Principal

EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # the weeks a baseline can read


def weeks_of(start: date, end: date) -> list[date]:
    """The Mondays of the ISO weeks from the one holding ``start`` to the one holding
    ``end``, both kept within ``EARLIEST`` to ``LATEST`` (outside it there is no data to
    count, and a week past year 9999 does not exist)."""
    start = min(max(start, EARLIEST), LATEST)
    end = max(min(end, LATEST), EARLIEST)
    first, last = monday(start), monday(end)
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def period_of(weeks: list[date]) -> Period:
    return Period(start=weeks[0], end=weeks[-1] + timedelta(days=6),
                  weeks=[iso_week(w) for w in weeks])


class BaselineStore:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog) -> None:
        self._sessions = sessions
        self._audit = audit

    def current(self) -> Baseline | None:
        with self._sessions() as session:
            row = session.scalars(select(AnalyticsBaseline)
                                  .order_by(AnalyticsBaseline.id.desc()).limit(1)).first()
        if row is None:
            return None
        return Baseline(start=row.start, end=row.end, set_by=row.set_by, set_at=row.set_at,
                        period=period_of(weeks_of(row.start, row.end)))

    def choose(self, first: date, last: date, admin: Principal) -> Baseline:
        """Make the days from ``first`` to ``last`` (inclusive, either order) the baseline.
        Weeks without data (in the future, say) simply count nothing."""
        if not admin.is_admin:
            raise Forbidden("choosing the baseline needs the admin role", code="missing_role")
        start, end = min(first, last), max(first, last)
        with self._sessions() as session:
            row = AnalyticsBaseline(start=start, end=end, set_by=admin.actor)
            session.add(row)
            session.commit()
        self._audit.record(admin.actor, "analytics_baseline_set", "analytics",
                           start=start.isoformat(), end=end.isoformat())
        chosen = self.current()
        assert chosen is not None
        return chosen
