"""Customer-reply drafts, from the agent's side: the requests, and the envelope of the list of
one's drafts (the draft itself is ``app.review.records.AuthorDraft``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.chat import QUESTION
from app.api.schemas.rules import NON_BLANK, RequestBody
from app.review.records import AuthorDraft, Customer
from app.review.vocabulary import Tone


class DraftRequest(RequestBody):
    question: str = Field(description="The customer's question or the ticket text.",
                          json_schema_extra=QUESTION)
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    customer: Customer = Field(default_factory=Customer)
    tone: Tone = "friendly"


class DraftFromAnswer(RequestBody):
    customer: Customer = Field(default_factory=Customer)
    tone: Tone = "friendly"


class Resubmit(RequestBody):
    text: str | None = Field(None, max_length=20_000, description="A revised reply, if any.",
                             json_schema_extra=NON_BLANK)
    note: str = Field("", max_length=2000, description="What changed, for the reviewer.")


class DraftList(BaseModel):
    """The caller's latest drafts, newest first."""

    drafts: list[AuthorDraft]
