"""Folding the grouped rows of ``app.analytics.queries`` into the figures of
``app.analytics.records`` (whose docstring defines each one).

The rows are per (week, person[, collections]), so this loop runs over weeks x people, not
over answers. Each row lands in the ``Cell`` of its ISO week and of every group its person (or its
collections) belongs to; a cell keeps sums and the sets of people behind them, so several weeks
fold into one period without counting a person twice.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from app.analytics.privacy import guarded
from app.analytics.queries import as_day
from app.analytics.records import FIGURES, NOT_PER_COLLECTION, FigureName, Value


def monday(of: date) -> date:
    return of - timedelta(days=of.weekday())


def iso_week(start: date) -> str:
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Cell:
    """One group's sums for one ISO week, with the people behind each."""

    active_days: int = 0  # sum over people of the days they were active
    askers: set[int] = field(default_factory=set)
    questions: int = 0
    refused: int = 0
    voters: set[int] = field(default_factory=set)
    up: int = 0
    votes: int = 0
    outcome_people: set[int] = field(default_factory=set)
    solved: int = 0
    needs_person: int = 0
    authors: set[int] = field(default_factory=set)
    drafts: int = 0
    decided_people: set[int] = field(default_factory=set)
    approved: int = 0
    decided: int = 0
    approvers: set[int] = field(default_factory=set)
    as_is: int = 0
    minutes: Counter[int] = field(default_factory=Counter)
    respondents: set[int] = field(default_factory=set)
    responses: int = 0
    promoters: int = 0
    detractors: int = 0


GroupsOf = Callable[[int, str | None], Iterable[str]]
"""The groups a row counts in, from its person id and its collections text."""

Cells = dict[str, dict[date, Cell]]  # group -> week's Monday -> cell


def dated(cells: Cells) -> Cells:
    """``cells`` with their week keys as dates (a query hands them over as text on SQLite)."""
    out: Cells = {}
    for group, weeks in cells.items():
        out[group] = {}
        for week, cell in weeks.items():
            key = as_day(week)
            assert key not in out[group], "one week under two keys"
            out[group][key] = cell
    return out


def _ids(text: str | None) -> set[int]:
    """The ids of a comma-separated text (SQL's group_concat / string_agg)."""
    return set(map(int, text.split(","))) if text else set()


class Folder:
    """Gathers rows into cells; ``groups_of`` says which groups a row counts in."""

    def __init__(self, groups_of: GroupsOf) -> None:
        self._groups_of = groups_of
        self.cells: Cells = defaultdict(lambda: defaultdict(Cell))
        # rows repeat their (person, collections) and (week, groups) many times over: each
        # is worked out once (the collection breakdown folds tens of thousands of rows)
        self._groups: dict[tuple[int, str | None], tuple[str, ...]] = {}
        self._at: dict[tuple[date, tuple[str, ...]], list[Cell]] = {}

    def _cells(self, week: date, user: int, collections: str | None) -> list[Cell]:
        groups = self._groups.get((user, collections))
        if groups is None:
            groups = self._groups[user, collections] = tuple(self._groups_of(user, collections))
        cells = self._at.get((week, groups))
        if cells is None:
            cells = self._at[week, groups] = [self.cells[g][week] for g in groups]
        return cells

    def answers(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, user, coll, days, questions, refused in rows:
            for c in self._cells(week, user, coll):
                c.active_days += days
                c.askers.add(user)
                c.questions += questions
                c.refused += refused or 0

    def answers_by_collections(self, rows: Iterable[Sequence[Any]]) -> None:
        """``answers`` for rows of many people each (their ids as text): the per-collection
        breakdown, whose groups depend on the collections alone."""
        for week, ids, coll, days, questions, refused in rows:
            askers = _ids(ids)
            for c in self._cells(week, 0, coll):
                c.active_days += days or 0
                c.askers |= askers
                c.questions += questions or 0
                c.refused += refused or 0

    def feedback_by_collections(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, voters, outcome_people, coll, up, votes, solved, needs in rows:
            for c in self._cells(week, 0, coll):
                if votes:
                    c.voters |= _ids(voters)
                    c.up += up
                    c.votes += votes
                if solved or needs:
                    c.outcome_people |= _ids(outcome_people)
                    c.solved += solved
                    c.needs_person += needs

    def feedback(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, user, coll, up, votes, solved, needs in rows:
            for c in self._cells(week, user, coll):
                if votes:
                    c.voters.add(user)
                    c.up += up
                    c.votes += votes
                if solved or needs:
                    c.outcome_people.add(user)
                    c.solved += solved
                    c.needs_person += needs

    def drafts(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, user, coll, requested, approved, decided, as_is in rows:
            for c in self._cells(week, user, coll):
                c.authors.add(user)
                c.drafts += requested
                if decided:
                    c.decided_people.add(user)
                    c.decided += decided
                    c.approved += approved
                if approved:
                    c.approvers.add(user)
                    c.as_is += as_is

    def approval_minutes(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, user, coll, minutes, drafts in rows:
            for c in self._cells(week, user, coll):
                c.minutes[max(int(minutes), 0)] += drafts

    def pulse(self, rows: Iterable[Sequence[Any]]) -> None:
        for week, user, coll, responses, promoters, detractors in rows:
            for c in self._cells(week, user, coll):
                c.respondents.add(user)
                c.responses += responses
                c.promoters += promoters
                c.detractors += detractors


def collection_groups(text: str | None) -> list[str]:
    """The collection names of a stored collections list."""
    names = json.loads(text) if text else []
    return [str(n) for n in names] if isinstance(names, list) else []


def percentile(histogram: Counter[int], p: float) -> int | None:
    """Nearest rank: the smallest value that at least ``p`` % of the counted values do not
    exceed."""
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(p / 100 * total)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)  # pragma: no cover - the loop reaches the rank


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def _union(sets: Iterable[set[int]]) -> set[int]:
    out: set[int] = set()
    for s in sets:
        out |= s
    return out


def fold(weeks: Sequence[date], cells: Mapping[date, Cell], k: int, *,
         per_collection: bool = False) -> dict[FigureName, Value]:
    """Every figure of one group over ``weeks`` (Mondays), after the k rule. ``cells`` may
    hold earlier weeks too: the monthly active users of a week read the three before it."""
    empty = Cell()
    week_cells = [cells.get(w, empty) for w in weeks]

    def over(attr: str) -> int:
        return sum(int(getattr(c, attr)) for c in week_cells)

    def people(attr: str) -> int:
        return len(_union(getattr(c, attr) for c in week_cells))

    askers = people("askers")
    n = len(week_cells) or 1
    # people active per day, summed over the week's days = days active, summed over people
    daily = sum(c.active_days / 7 for c in week_cells) / n
    weekly = sum(len(c.askers) for c in week_cells) / n
    months = [_union(cells.get(w - timedelta(weeks=back), empty).askers for back in range(4))
              for w in weeks]
    monthly = sum(len(m) for m in months) / n
    minutes: Counter[int] = Counter()
    for c in week_cells:
        minutes.update(c.minutes)
    questions, responses = over("questions"), over("responses")
    raw: dict[FigureName, tuple[float | None, int]] = {
        "active_users_daily": (round(daily, 2), askers),
        "active_users_weekly": (round(weekly, 2), askers),
        "active_users_monthly": (round(monthly, 2), len(_union(months))),
        "questions": (questions, askers),
        "answered_share": (_ratio(questions - over("refused"), questions), askers),
        "refused_share": (_ratio(over("refused"), questions), askers),
        "thumbs_up_share": (_ratio(over("up"), over("votes")), people("voters")),
        "self_service_share": (_ratio(over("solved"), over("solved") + over("needs_person")),
                               people("outcome_people")),
        "drafts_requested": (over("drafts"), people("authors")),
        "approval_rate": (_ratio(over("approved"), over("decided")), people("decided_people")),
        "approved_as_is_rate": (_ratio(over("as_is"), over("approved")), people("approvers")),
        "approval_minutes_p50": (percentile(minutes, 50), people("approvers")),
        "approval_minutes_p90": (percentile(minutes, 90), people("approvers")),
        "nps": (round(100 * (over("promoters") - over("detractors")) / responses, 1)
                if responses else None, people("respondents")),
    }
    return {name: (Value(value=None, people=None, suppressed=False)
                   if per_collection and name in NOT_PER_COLLECTION
                   else guarded(*raw[name], k)) for name in FIGURES}
