"""Customer-reply drafts, from the agent's side."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CustomerContext(BaseModel):
    name: str = Field("", max_length=200, description="How the reply addresses the customer.")
    language: str = Field("en", max_length=40, description="en, nl, de, fr or a language name.")
    ticket_id: str = Field("", max_length=100, description="The ticketing system's id; sent "
                           "back with the approval webhook.")


Tone = Literal["friendly", "formal", "neutral", "apologetic"]


class DraftRequest(BaseModel):
    question: str = Field(description="The customer's question or the ticket text.")
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    customer: CustomerContext = Field(default_factory=CustomerContext)
    tone: Tone = "friendly"


class DraftFromAnswer(BaseModel):
    customer: CustomerContext = Field(default_factory=CustomerContext)
    tone: Tone = "friendly"


class Resubmit(BaseModel):
    text: str | None = Field(None, max_length=20_000, description="A revised reply, if any.")
    note: str = Field("", max_length=2000, description="What changed, for the reviewer.")
