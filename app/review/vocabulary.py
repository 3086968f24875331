"""The review queue's words, each defined once: draft states, transitions, rejection reasons,
rubric criteria and their 1-5 scores, reply tones, statistics groupings, delivery statuses.

Each is a ``Literal`` so mypy, pydantic and ``/openapi.json`` all know the allowed values; the
run-time tuple (for messages, loops and membership checks) is read off it with ``get_args``,
so a new value is added in one place and the tables, records, request schemas, routes, CLI and
statistics follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

State = Literal["pending", "in_review", "approved", "rejected", "changes_requested"]
STATES: tuple[State, ...] = get_args(State)

# what a draft event records; the audit action is ``draft_<action>`` (``draft_created`` and
# ``draft_resubmitted`` for the author's two)
Action = Literal["create", "claim", "release", "edit", "approve", "reject", "request_changes",
                 "resubmit"]

Reason = Literal["wrong_facts", "missing_info", "tone", "outdated_source", "should_not_answer"]
REASONS: tuple[Reason, ...] = get_args(Reason)

Criterion = Literal["accuracy", "completeness", "tone", "citations"]
RUBRIC: tuple[Criterion, ...] = get_args(Criterion)

SCORE_MIN, SCORE_MAX = 1, 5
Score = Annotated[int, Field(ge=SCORE_MIN, le=SCORE_MAX)]


def _every_criterion(scores: dict[Criterion, int]) -> dict[Criterion, int]:
    missing = [c for c in RUBRIC if c not in scores]
    if missing:
        raise ValueError(f"scores needs {', '.join(RUBRIC)}; missing {', '.join(missing)}")
    return scores


# a reviewer's rating: every criterion, each 1-5 (citations: are the cited sources the right
# ones?). The request schemas and the queue's own check validate against this one type.
Scores = Annotated[
    dict[Criterion, Score], AfterValidator(_every_criterion),
    Field(description=f"{', '.join(RUBRIC)}: each {SCORE_MIN}-{SCORE_MAX} (citations: are "
          "the cited sources the right ones?)", json_schema_extra={"required": list(RUBRIC)})]
_SCORES: TypeAdapter[dict[Criterion, int]] = TypeAdapter(Scores)


def valid_scores(scores: Mapping[str, object]) -> bool:
    """Whether ``scores`` rates every criterion with a whole number 1-5 and nothing else
    (strict: no ``"5"``, no ``4.0``), whoever calls the queue."""
    try:
        _SCORES.validate_python(dict(scores), strict=True)
    except ValidationError:
        return False
    return True


Tone = Literal["friendly", "formal", "neutral", "apologetic"]

Grouping = Literal["prompt", "model", "collection", "team", "reviewer", "week", "all"]
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)

DeliveryStatus = Literal["pending", "delivered", "failed"]
