"""The feedback table: one row per person per answer (a unique constraint, so a changed
vote replaces the row rather than adding one). The allowed values of the string columns are
the ``Literal`` types of ``app.feedback.records``; the database stores plain strings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from app.feedback.records import Outcome, Reason, Vote


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
