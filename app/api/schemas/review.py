"""The review queue, from the reviewer's side."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class EditRequest(BaseModel):
    text: str = Field(max_length=20_000)


class Scores(BaseModel):
    accuracy: int = Field(ge=1, le=5)
    completeness: int = Field(ge=1, le=5)
    tone: int = Field(ge=1, le=5)
    citations: int = Field(ge=1, le=5, description="Are the cited sources the right ones?")


class ApproveRequest(BaseModel):
    scores: Scores
    comment: str = Field("", max_length=4000)
    text: str | None = Field(None, max_length=20_000, description="Final text, if edited now.")


class RejectRequest(BaseModel):
    scores: Scores
    reason: Literal["wrong_facts", "missing_info", "tone", "outdated_source",
                    "should_not_answer"]
    comment: str = Field("", max_length=4000)


class ChangesRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=4000, description="What should change.")


class CandidateRequest(BaseModel):
    expected_documents: list[str] | None = Field(
        None, description="Documents that should answer it (default: an approved draft's "
        "cited documents; required for a rejection other than should_not_answer).")
