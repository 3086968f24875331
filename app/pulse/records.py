"""The pulse's vocabulary and what it hands across its boundary: ``PulseStatus`` (is the
question due for me, and what is it), the API's response model and the ask page's input."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.review.records import Timestamp

SCORE_MIN, SCORE_MAX = 0, 10
QUESTION = "How likely are you to recommend Vraagbaak to a colleague?"
"""The question, word for word (the NPS convention); the ask page shows its translation."""

NotDue = Literal["disabled", "asked_this_period", "too_few_questions", "no_user"]
"""Why the pulse is not due: it is switched off; the person was asked within the period
(answered or dismissed); they have asked fewer questions than ``pulse.first_ask_after``; the
caller is no person (the server's command line)."""
NOT_DUE: tuple[NotDue, ...] = get_args(NotDue)


class PulseStatus(BaseModel):
    """Whether the pulse is due for the caller now."""

    due: bool = Field(description="true: show the question (and answer or dismiss it with "
                      "POST /v1/pulse or POST /v1/pulse/dismiss).")
    why_not: NotDue | None = Field(description="Why it is not due; null when it is.")
    question: str = Field(QUESTION, description="The question to show, in English.")
    score_min: int = SCORE_MIN
    score_max: int = SCORE_MAX
    asked_at: Timestamp | None = Field(description="When the open question was first shown "
                                       "to the caller; null if it has not been shown yet.")
    next_at: Timestamp | None = Field(description="When it is due again, once asked this "
                                      "period; null otherwise.")
