"""The feedback table: one row per person per answer (a unique constraint, so a changed
vote replaces the row rather than adding one), and the hand-offs "I still need a person"
sends to the ticketing system: one per person per answer per receiver, again a unique
constraint. The allowed values of the string columns are the ``Literal`` types of
``app.feedback.records`` and ``app.review.vocabulary``; the database stores plain strings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from app.feedback.records import Outcome, Reason, Vote
from app.review.vocabulary import DeliveryStatus


class AnswerFeedback(Base):
    __tablename__ = "answer_feedback"
    __table_args__ = (UniqueConstraint("answer_id", "user_id",
                                       name="uq_answer_feedback_answer_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the unique constraint's index serves lookups by answer too
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    vote: Mapped[Vote | None] = mapped_column(String(8), default=None)
    reasons: Mapped[list[Reason]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[Outcome | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class HandoffDelivery(Base):
    """One answer handed to one ticketing URL because its asker still needs a person.
    Written in the transaction that stores the outcome, so the outcome can't be kept while the
    promise to hand it off is lost; sent and retried like an approval webhook
    (``app.review.webhooks.SignedOutbox``)."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("answer_id", "user_id", "url",
                                       name="uq_handoffs_answer_user_url"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # the unique constraint's index serves lookups by answer too
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    ticket_ref: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
