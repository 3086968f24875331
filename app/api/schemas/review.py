"""The review queue, from the reviewer's side: the requests (the responses are the records of
``app.review.records``). Scores and reasons are the vocabulary's own types."""

from __future__ import annotations

from pydantic import Field

from app.api.schemas.rules import NON_BLANK, RequestBody
from app.review.vocabulary import Reason, Scores


class EditRequest(RequestBody):
    text: str = Field(max_length=20_000, json_schema_extra=NON_BLANK)


class ApproveRequest(RequestBody):
    scores: Scores
    comment: str = Field("", max_length=4000)
    text: str | None = Field(None, max_length=20_000, description="Final text, if edited now.",
                             json_schema_extra=NON_BLANK)


class RejectRequest(RequestBody):
    scores: Scores
    reason: Reason
    comment: str = Field("", max_length=4000)


class ChangesRequest(RequestBody):
    comment: str = Field(min_length=1, max_length=4000, description="What should change.",
                         json_schema_extra=NON_BLANK)


class CandidateRequest(RequestBody):
    expected_documents: list[str] | None = Field(
        None, description="Documents that should answer it (default: an approved draft's "
        "cited documents; required for a rejection other than should_not_answer).")
