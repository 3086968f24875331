"""How good the drafts are and how much reviewers change them, grouped the way a team lead
asks: by prompt version, model, collection, team, reviewer or week.

Figures per group:
- ``approval_rate``: approved / decided (approved + rejected);
- ``approved_as_is_rate``: approved with edit distance 0 / approved;
- ``mean_scores``: the rubric (1-5) over decided drafts that carry scores;
- ``mean_edit_distance``: normalised Levenshtein distance between the model's text and the
  approved text (0 = untouched, 1 = rewritten), over approved drafts;
- ``first_review_s`` and ``decision_s``: p50 and p90 (linear interpolation) of the time from
  creation to the first claim and to the decision.

A draft counts in every collection and every author team it has. Only drafts whose
collections the caller may read are counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Collection as Names
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import InvalidInput
from app.identity.tables import User
from app.review.records import Quantiles, StatsFigures, StatsGroup, StatsReport
from app.review.tables import Draft as DraftRow
from app.review.vocabulary import GROUPINGS, RUBRIC, Grouping


def _seconds(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def _quantiles(values: list[float]) -> Quantiles:
    if not values:
        return Quantiles(p50=None, p90=None)
    arr = np.asarray(values, dtype=float)
    return Quantiles(p50=round(float(np.percentile(arr, 50)), 1),
                     p90=round(float(np.percentile(arr, 90)), 1))


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


# what the figures and groupings read; texts are never loaded
STATS_COLUMNS = (DraftRow.state, DraftRow.scores, DraftRow.edit_distance, DraftRow.created_at,
                 DraftRow.first_claimed_at, DraftRow.decided_at, DraftRow.reason,
                 DraftRow.prompt, DraftRow.model_id, DraftRow.collections,
                 DraftRow.author_teams, DraftRow.decided_by)


def summarise(drafts: Sequence[Any]) -> StatsFigures:
    """Figures of a group of drafts (rows with the ``STATS_COLUMNS``)."""
    approved = [d for d in drafts if d.state == "approved"]
    rejected = [d for d in drafts if d.state == "rejected"]
    decided = approved + rejected
    scored = [d.scores for d in decided if d.scores]
    return StatsFigures(
        drafts=len(drafts),
        pending=sum(d.state in ("pending", "in_review") for d in drafts),
        approved=len(approved),
        rejected=len(rejected),
        changes_requested=sum(d.state == "changes_requested" for d in drafts),
        approval_rate=round(len(approved) / len(decided), 4) if decided else None,
        approved_as_is_rate=round(sum(d.edit_distance == 0 for d in approved)
                                  / len(approved), 4) if approved else None,
        mean_scores={k: _mean([float(s[k]) for s in scored if k in s]) for k in RUBRIC},
        mean_edit_distance=_mean([d.edit_distance for d in approved
                                  if d.edit_distance is not None]),
        first_review_s=_quantiles([s for d in drafts if (s := _seconds(
            d.created_at, d.first_claimed_at)) is not None]),
        decision_s=_quantiles([s for d in decided if (s := _seconds(
            d.created_at, d.decided_at)) is not None]),
        rejection_reasons={r: sum(d.reason == r for d in rejected)
                           for r in sorted({d.reason for d in rejected if d.reason})},
    )


class ReviewStats:
    """The figures above over the drafts a caller may read, grouped one way at a time."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def stats(self, group_by: Grouping, *, readable: Names[str],
              since: datetime | None = None) -> StatsReport:
        if group_by not in GROUPINGS:  # a caller that is not type-checked (a script)
            raise InvalidInput(f"group_by is one of {', '.join(GROUPINGS)}",
                               code="invalid_group")
        with self._sessions() as session:
            stmt = select(*STATS_COLUMNS)
            if since is not None:  # SQLite compares clock text: compare in UTC
                stmt = stmt.where(DraftRow.created_at >= since)
            drafts = [d for d in session.execute(stmt) if set(d.collections) <= set(readable)]
            names = dict(session.execute(select(User.id, User.username)).all())
        keys: dict[Grouping, Callable[[Any], list[str]]] = {
            "prompt": lambda d: [d.prompt],
            "model": lambda d: [d.model_id],
            "collection": lambda d: list(d.collections),
            "team": lambda d: list(d.author_teams) or ["(no team)"],
            "reviewer": lambda d: [names.get(d.decided_by, "(undecided)")
                                   if d.decided_by is not None else "(undecided)"],
            "week": lambda d: ["{}-W{:02d}".format(
                *d.created_at.isocalendar()[:2])],
            "all": lambda d: ["all"],
        }
        groups: dict[str, list[Any]] = defaultdict(list)
        for d in drafts:
            for key in keys[group_by](d):
                groups[key].append(d)
        return StatsReport(
            group_by=group_by, overall=summarise(drafts),
            groups=[StatsGroup(key=k, **dict(summarise(v))) for k, v in sorted(groups.items())])
