"""What the privacy feature hands across its boundary: a retention run's report and the
export of one person's records (the API's response models, the CLI's JSON)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.review.records import Timestamp

RetentionMode = Literal["anonymise", "delete"]


class RetentionReport(BaseModel):
    """What one retention run did (or, dry, would do)."""

    mode: RetentionMode
    cutoff: Timestamp = Field(description="Texts older than this were (or would be) "
                              "anonymised or deleted.")
    dry_run: bool
    rows: dict[str, int] = Field(description="Rows changed per table (delete mode: also "
                                 "the rows that hung off them); tables without changes are "
                                 "left out.")


class ExportedUser(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    teams: list[str]
    active: bool
    created_at: str


class ExportedAnswer(BaseModel):
    answer_id: str
    created_at: Timestamp
    channel: str
    question: str = Field(description="Empty once anonymised by retention.")
    answer: str
    collections: list[str]
    refused: bool
    conversation_id: str | None


class ExportedConversation(BaseModel):
    conversation_id: str
    title: str
    created_at: Timestamp
    updated_at: Timestamp
    deleted_at: Timestamp | None


class ExportedFeedback(BaseModel):
    answer_id: str
    vote: str | None
    reasons: list[str]
    comment: str
    outcome: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ExportedHandoff(BaseModel):
    handoff_id: str
    answer_id: str
    status: str
    created_at: Timestamp
    delivered_at: Timestamp | None


class ExportedDraft(BaseModel):
    draft_id: str
    created_at: Timestamp
    state: str
    question: str
    text: str
    final_text: str | None
    customer: dict[str, Any]
    ticket_id: str
    decided_at: Timestamp | None


class ExportedPulse(BaseModel):
    asked_at: Timestamp
    score: int | None = Field(description="0-10; null when dismissed or not answered.")
    answered_at: Timestamp | None = Field(description="When answered or dismissed; null "
                                          "while open.")


class SubjectExport(BaseModel):
    """Everything stored about one person's use of the assistant, for a subject-access
    request or a works-council audit. Its making is audited (who, whose, counts)."""

    user: ExportedUser
    exported_at: Timestamp
    exported_by: str
    answers: list[ExportedAnswer]
    conversations: list[ExportedConversation]
    feedback: list[ExportedFeedback]
    handoffs: list[ExportedHandoff]
    drafts: list[ExportedDraft] = Field(description="Drafts the person asked for (as "
                                        "author).")
    pulse: list[ExportedPulse] = Field(description="The NPS pulse: each time it was put to "
                                       "the person, and their score.")

    def counts(self) -> dict[str, int]:
        return {"answers": len(self.answers), "conversations": len(self.conversations),
                "feedback": len(self.feedback), "handoffs": len(self.handoffs),
                "drafts": len(self.drafts), "pulse": len(self.pulse)}
