"""The adoption figures' vocabulary (figure names, their meanings and units, the groupings)
and what the feature hands across its boundary: every figure as a ``Value`` (the number, how
many people stand behind it, and whether the k rule held it back), compared "baseline -> now"
in a ``Figure``.

The figures, per ISO week and per group (the whole company, a team, a role, a collection):

- ``active_users_daily``: people who asked at least one question on a day, averaged over the
  7 days of the week;
- ``active_users_weekly``: people who asked at least one question in the week;
- ``active_users_monthly``: people who asked at least one question in the 28 days that end
  with the week (that week and the three before);
- ``questions``: questions asked (answers given or refused);
- ``answered_share`` and ``refused_share``: answered / questions and refused / questions;
- ``thumbs_up_share``: thumbs up / votes, over the votes on the week's answers;
- ``self_service_share``: solved / (solved + "I still need a person"), over the outcomes
  given on the week's answers;
- ``drafts_requested``: customer reply drafts asked for in the week;
- ``approval_rate``: approved / decided (approved + rejected), over the week's drafts;
- ``approved_as_is_rate``: approved without a reviewer's edit (edit distance 0) / approved;
- ``approval_minutes_p50`` and ``approval_minutes_p90``: minutes from asking for a draft to
  its approval, over the week's approved drafts; whole minutes, nearest rank (the smallest
  value at least p % of the drafts do not exceed);
- ``nps``: % promoters (9-10) - % detractors (0-6) over the pulse answers of the week, -100
  to 100 (dismissed pulses do not count). Not per collection: the pulse asks about the
  assistant, not a collection.

Everything is counted in the week of its origin (the question, the draft request, the pulse),
for the asker's (author's, respondent's) current teams and roles, and for every collection the
answer or draft drew on. The "people behind" a figure are the distinct askers (authors,
respondents) whose rows it counts; over several weeks, the distinct people over all of them.
Over several weeks counts are summed, rates are the summed numerators over the summed
denominators, active users are the mean of the weekly values and the percentiles are taken
over every approval of the period.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.review.records import Timestamp

FigureName = Literal[
    "active_users_daily", "active_users_weekly", "active_users_monthly", "questions",
    "answered_share", "refused_share", "thumbs_up_share", "self_service_share",
    "drafts_requested", "approval_rate", "approved_as_is_rate", "approval_minutes_p50",
    "approval_minutes_p90", "nps"]
FIGURES: tuple[FigureName, ...] = get_args(FigureName)

Unit = Literal["people", "count", "share", "minutes", "score"]
"""``share``: a fraction 0-1; ``score``: the NPS, -100 to 100."""

MEANINGS: dict[FigureName, tuple[str, Unit]] = {
    "active_users_daily": ("People who asked a question on a day, averaged over the week's "
                           "7 days.", "people"),
    "active_users_weekly": ("People who asked a question in the week.", "people"),
    "active_users_monthly": ("People who asked a question in the 28 days ending with the "
                             "week.", "people"),
    "questions": ("Questions asked (answered or refused).", "count"),
    "answered_share": ("Answered / questions asked.", "share"),
    "refused_share": ("Refused / questions asked.", "share"),
    "thumbs_up_share": ("Thumbs up / votes, on the week's answers.", "share"),
    "self_service_share": ("Solved / (solved + \"I still need a person\"), on the week's "
                           "answers.", "share"),
    "drafts_requested": ("Customer reply drafts asked for.", "count"),
    "approval_rate": ("Approved / decided (approved + rejected), of the week's drafts.",
                      "share"),
    "approved_as_is_rate": ("Approved without an edit / approved, of the week's drafts.",
                            "share"),
    "approval_minutes_p50": ("Minutes from asking for a draft to its approval: median.",
                             "minutes"),
    "approval_minutes_p90": ("Minutes from asking for a draft to its approval: 90th "
                             "percentile.", "minutes"),
    "nps": ("Net promoter score of the pulse: the share of answers scoring 9-10 minus the "
            "share scoring 0-6, in points (-100 to 100).", "score"),
}
NOT_PER_COLLECTION: frozenset[FigureName] = frozenset({"nps"})

Grouping = Literal["all", "team", "role", "collection"]
"""``all``: the whole company, one group named ``all``."""
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)


class Value(BaseModel):
    """One figure of one group over one period, after the k rule."""

    value: float | None = Field(description="Null when suppressed, or when there is nothing "
                                "to divide by (no votes, no decided drafts).")
    people: int | None = Field(description="Distinct people behind the figure; null when "
                               "suppressed (fewer than k).")
    suppressed: bool = Field(description="True: fewer than k people stand behind it, so it "
                             "is not shown.")


class Figure(BaseModel):
    """A figure as management reads it: baseline -> now, change in %."""

    name: FigureName
    meaning: str
    unit: Unit
    baseline: Value | None = Field(description="Null when no baseline was chosen.")
    now: Value
    change_pct: float | None = Field(description="(now - baseline) / |baseline| x 100; null "
                                     "without a baseline, when either side is null, or when "
                                     "the baseline is 0.")


class Period(BaseModel):
    """Whole ISO weeks, Monday ``start`` to Sunday ``end``."""

    start: date
    end: date
    weeks: list[str] = Field(description="ISO weeks, e.g. 2026-W48.")


class GroupFigures(BaseModel):
    group: str = Field(description="Team or collection name, role, or \"all\".")
    figures: list[Figure]


class Comparison(BaseModel):
    """Every figure of every group of one grouping, baseline -> now. Groups are listed by
    name, never ranked."""

    by: Grouping
    k: int = Field(description="The threshold of distinct people a figure needs.")
    baseline: Period | None
    now: Period
    groups: list[GroupFigures]


class WeekFigures(BaseModel):
    week: str = Field(description="ISO week, e.g. 2026-W48.")
    start: date = Field(description="Its Monday.")
    figures: dict[FigureName, Value]


class GroupSeries(BaseModel):
    group: str
    weeks: list[WeekFigures]


class Series(BaseModel):
    """The figures week by week, per group of one grouping, oldest week first."""

    by: Grouping
    k: int
    period: Period
    meanings: dict[FigureName, str]
    groups: list[GroupSeries]


class Baseline(BaseModel):
    """The baseline period the admin chose, and the whole weeks the figures read for it."""

    start: date = Field(description="First day chosen (inclusive).")
    end: date = Field(description="Last day chosen (inclusive).")
    set_by: str
    set_at: Timestamp
    period: Period
