"""SQLAlchemy models for the review queue: drafts, their transitions, webhook deliveries and
the evaluation candidates reviewers make from them.

A draft's workflow state only ever changes through a conditional ``UPDATE ... WHERE state IN
(...)`` (``app.core.transitions``): the database, not a Python lock, decides which of two racing
reviewers wins. The allowed values of the string columns are the ``Literal`` types of
``app.review.vocabulary``; the database stores them as plain strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, cast, column
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from app.review.vocabulary import Action, Criterion, DeliveryStatus, Reason, State, Tone


class Draft(Base):
    """A customer-facing reply waiting for (or past) human review.

    ``generated_text`` is what the model wrote and never changes; ``text`` is the working copy
    (an agent's resubmission or a reviewer's edit replaces it); ``final_text`` is set only on
    approval, and is the only text ever handed out as approved.
    """

    __tablename__ = "drafts"
    # the queue reads this index alone for visibility, counts and order (migration 0007)
    __table_args__ = (Index("ix_drafts_queue", cast(column("collections"), Text), "state",
                            "submitted_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)  # last (re)submission
    author_id: Mapped[int] = mapped_column(Integer, index=True)
    author_teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer_id: Mapped[str] = mapped_column(String(32))  # retrieval, prompt, model, citations
    collections: Mapped[list[str]] = mapped_column(JSON)
    question: Mapped[str] = mapped_column(Text)
    customer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name, language, ticket
    ticket_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    tone: Mapped[Tone] = mapped_column(String(32), default="friendly")
    prompt: Mapped[str] = mapped_column(String(80))  # id@version
    model_id: Mapped[str] = mapped_column(String(200))
    refused: Mapped[bool] = mapped_column(default=False)
    generated_text: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    final_text: Mapped[str | None] = mapped_column(Text, default=None)
    edit_distance: Mapped[float | None] = mapped_column(Float, default=None)
    state: Mapped[State] = mapped_column(String(20), default="pending", index=True)
    assignee_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    first_claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(Integer, default=None)
    scores: Mapped[dict[Criterion, int] | None] = mapped_column(JSON, default=None)
    reason: Mapped[Reason | None] = mapped_column(String(32), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")


class DraftEvent(Base):
    """Every transition of a draft: who, when, from which state to which."""

    __tablename__ = "draft_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[str] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[Action] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(20))  # "" for the creation
    to_state: Mapped[State] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class WebhookDelivery(Base):
    """One approved draft to one URL. Written in the approval's transaction, so a failed or
    never-attempted delivery can't lose the approval, and a restart resumes it."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default="pending",
                                                  index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)


class EvalCandidate(Base):
    """A reviewed draft turned into a test case for the evaluation sets (exported as JSONL in
    the question-set format)."""

    __tablename__ = "eval_candidates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(128))
    case: Mapped[dict[str, Any]] = mapped_column(JSON)
