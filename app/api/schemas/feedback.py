"""Feedback on an answer: the request (the response is ``app.feedback.records.Feedback``).
Votes, reasons and outcomes are the feature's own vocabulary types."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.api.schemas.rules import RequestBody, schema_only
from app.feedback.records import COMMENT_MAX, REASONS, Outcome, Reason, Vote

# the service's own checks (empty_feedback, reasons_need_down), declared for clients too
RULES: list[dict[str, Any]] = [
    {"anyOf": [{"required": ["vote"], "properties": {"vote": {"type": "string"}}},
               {"required": ["outcome"], "properties": {"outcome": {"type": "string"}}}]},
    {"anyOf": [{"properties": {"reasons": {"maxItems": 0}}},
               {"required": ["vote"], "properties": {"vote": {"const": "down"}}}]},
]


class FeedbackRequest(RequestBody):
    """Your whole feedback on the answer; it replaces what you gave before."""

    model_config = ConfigDict(strict=True, json_schema_extra=schema_only(allOf=RULES))

    vote: Vote | None = Field(None, description="Thumbs up or down; null to give only an "
                              "outcome (one of the two is needed).")
    reasons: list[Reason] = Field(default_factory=list, max_length=len(REASONS),
                                  description="Why it was voted down; only with vote down.")
    comment: str = Field("", max_length=COMMENT_MAX)
    outcome: Outcome | None = Field(None, description="solved: the answer was enough; "
                                    "needs_person: you still need someone.")
