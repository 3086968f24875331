"""The adoption figures for management: baseline -> now per group, the weekly series, its CSV.

Who may call is the HTTP layer's check (the ``manager`` role; admins hold every role); only
choosing the baseline needs an admin, checked here too. Every answer is made of aggregates
that passed the k rule (``app.analytics.privacy``): no figure of fewer than k people, no
figure per person, groups listed by name.

One request reads at most two spans of the tables (the baseline's weeks and now's; for the
answers also the three weeks before each, for the monthly active users; merged when they
touch), grouped in SQL by (ISO week, person); the folding into teams and roles happens over
that small result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.analytics.baseline import BaselineStore, period_of, weeks_of
from app.analytics.figures import (
    Cells,
    Folder,
    GroupsOf,
    collection_groups,
    dated,
    fold,
    iso_week,
    monday,
)
from app.analytics.privacy import change_pct
from app.analytics.queries import FigureQueries, Window
from app.analytics.records import (
    FIGURES,
    GROUPINGS,
    MEANINGS,
    Baseline,
    Comparison,
    Figure,
    GroupFigures,
    Grouping,
    GroupSeries,
    Series,
    WeekFigures,
)
from app.analytics.rollups import refresh
from app.audit.log import AuditLog
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.core.settings import AnalyticsSettings
from app.core.tables import utcnow
from app.identity.tables import ROLES, Membership, Team, User

MAX_WEEKS = 53
LOOKBACK = timedelta(weeks=3)  # the monthly active users of a week read the three before it
CSV_COLUMNS = ("week", "week_start", "by", "group", "figure", "value", "people", "suppressed")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _spans(periods: Iterable[list[date]], lookback: timedelta = timedelta()
           ) -> list[tuple[date, date]]:
    """Day ranges [first, after) to read for the periods' weeks (from ``lookback`` before
    them), merged where they overlap or touch, so no row is read (and counted) twice."""
    spans = sorted((w[0] - lookback, w[-1] + timedelta(weeks=1)) for w in periods if w)
    merged: list[tuple[date, date]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class AnalyticsService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 settings: AnalyticsSettings, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self.baselines = BaselineStore(sessions, audit)

    @property
    def k(self) -> int:
        return self._settings.k

    def _today(self) -> date:
        return self._clock().astimezone(UTC).date()

    def _last_weeks(self, weeks: int | None) -> list[date]:
        """The last ``weeks`` complete ISO weeks, oldest first."""
        n = self._settings.weeks if weeks is None else weeks
        if not 1 <= n <= MAX_WEEKS:
            raise InvalidInput(f"weeks is 1 to {MAX_WEEKS}", code="invalid_weeks")
        this_week = monday(self._today())
        return [this_week - timedelta(weeks=n - i) for i in range(n)]

    def choose_baseline(self, start: date, end: date, admin: Principal) -> Baseline:
        return self.baselines.choose(start, end, admin)

    # -- gathering ---------------------------------------------------------------------------

    @staticmethod
    def _grouping(session: Session, by: Grouping) -> tuple[GroupsOf, list[str] | None]:
        """Which groups a row counts in, and every group to list (None: the ones seen)."""
        if by not in GROUPINGS:  # a caller that is not type-checked
            raise InvalidInput(f"by is one of {', '.join(GROUPINGS)}", code="invalid_group")
        if by == "all":
            return (lambda _user, _coll: ("all",)), ["all"]
        if by == "collection":
            parsed: dict[str | None, list[str]] = {}

            def collections_of(_user: int, coll: str | None) -> list[str]:
                if coll not in parsed:
                    parsed[coll] = collection_groups(coll)
                return parsed[coll]

            return collections_of, None
        if by == "team":
            teams: dict[int, list[str]] = {}
            for user_id, name in session.execute(
                    select(Membership.user_id, Team.name).join(Team,
                                                               Team.id == Membership.team_id)):
                teams.setdefault(user_id, []).append(name)
            names = sorted(session.scalars(select(Team.name)))
            return (lambda user, _coll: teams.get(user, ())), names
        roles = {user_id: [r for r in ROLES if r in (held or [])]
                 for user_id, held in session.execute(select(User.id, User.roles))}
        return (lambda user, _coll: roles.get(user, ())), list(ROLES)

    def _gather(self, by: Grouping, periods: list[list[date]]) -> tuple[Cells, list[str]]:
        with self._sessions() as session:
            groups_of, names = self._grouping(session, by)
            folder = Folder(groups_of)
            refresh(session)
            session.commit()  # the rollups are kept, and PostgreSQL's lock on them released
            queries = FigureQueries(session)
            split = by == "collection"
            for start, end in _spans(periods, LOOKBACK):  # active users read 3 weeks back
                window = Window(_midnight(start), _midnight(end), split)
                if split:
                    folder.answers_by_collections(queries.answers_by_collections(window))
                else:
                    folder.answers(queries.answers(window))
            for start, end in _spans(periods):
                window = Window(_midnight(start), _midnight(end), split)
                if split:
                    folder.feedback_by_collections(queries.feedback_by_collections(window))
                else:
                    folder.feedback(queries.feedback(window))
                folder.drafts(queries.drafts(window))
                folder.approval_minutes(queries.approval_minutes(window))
                if by != "collection":
                    folder.pulse(queries.pulse(window))
        cells = dated(folder.cells)
        return cells, names if names is not None else sorted(cells)

    # -- the figures -------------------------------------------------------------------------

    def compare(self, by: Grouping = "all", weeks: int | None = None) -> Comparison:
        """Every figure of every group: the baseline's weeks -> the last ``weeks``."""
        now = self._last_weeks(weeks)
        baseline = self.baselines.current()
        then = weeks_of(baseline.start, baseline.end) if baseline else []
        cells, names = self._gather(by, [then, now])
        per_collection = by == "collection"
        groups = []
        for name in names:
            group_cells = cells.get(name, {})
            current = fold(now, group_cells, self.k, per_collection=per_collection)
            before = (fold(then, group_cells, self.k, per_collection=per_collection)
                      if then else None)
            groups.append(GroupFigures(group=name, figures=[Figure(
                name=f, meaning=MEANINGS[f][0], unit=MEANINGS[f][1],
                baseline=before[f] if before else None, now=current[f],
                change_pct=change_pct(before[f] if before else None, current[f]))
                for f in FIGURES]))
        return Comparison(by=by, k=self.k, baseline=period_of(then) if then else None,
                          now=period_of(now), groups=groups)

    def series(self, by: Grouping = "all", weeks: int = 12) -> Series:
        """The figures of each of the last ``weeks`` weeks, per group, oldest first."""
        span = self._last_weeks(weeks)
        cells, names = self._gather(by, [span])
        per_collection = by == "collection"
        groups = [GroupSeries(group=name, weeks=[
            WeekFigures(week=iso_week(w), start=w,
                        figures=fold([w], cells.get(name, {}), self.k,
                                     per_collection=per_collection))
            for w in span]) for name in names]
        return Series(by=by, k=self.k, period=period_of(span),
                      meanings={f: MEANINGS[f][0] for f in FIGURES}, groups=groups)


def _cell_text(text: str) -> str:
    """A name as a spreadsheet shows it, never as a formula (``=``, ``+``, ``-``, ``@``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def series_csv(series: Series) -> str:
    """The series as CSV, one row per week, group and figure: the same values (and the same
    suppressions) as the JSON."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in series.groups:
        for week in group.weeks:
            for name, v in week.figures.items():
                writer.writerow([week.week, week.start.isoformat(), series.by,
                                 _cell_text(group.group), name,
                                 _number(v.value),
                                 "" if v.people is None else v.people,
                                 "true" if v.suppressed else "false"])
    return out.getvalue()
