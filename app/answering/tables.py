"""The answer record (everything needed to explain and replay one answer) and the agent's
conversations that group answers into threads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow


class Answer(Base):
    """Everything needed to explain and replay one answer."""

    __tablename__ = "answers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    # the asker; None for answers made by the server operator on the command line
    user_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    question: Mapped[str] = mapped_column(Text)
    collections: Mapped[list[str]] = mapped_column(JSON)
    retrieved: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    prompt_id: Mapped[str] = mapped_column(String(64))
    prompt_version: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[str] = mapped_column(String(200))
    snapshot_ids: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(Text)  # what the asker was shown
    # the model's text as it came out; "" for a refusal the model was never asked about
    generated: Mapped[str] = mapped_column(Text, default="", server_default="")
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sentences: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[dict[str, Any]] = mapped_column(JSON)
    total_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # the thread it belongs to; None for answers asked outside one (API, CLI, eval runs)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True)


class Conversation(Base):
    """One agent's thread of questions. Deleting hides it from its owner; its answers stay
    stored (they are the audit and replay record), only no longer listed as a thread."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
