"""The governed prompt library: versions seeded from ``prompts/library`` and every change of a
prompt's production version.

A new version is a new row, never an edit, and its zone says who may use it (exploration:
evaluation runs only; pilot: agents who opt in; production: everyone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from prompts.zones import Zone


class PromptVersion(Base):
    __tablename__ = "prompt_versions"
    __table_args__ = (UniqueConstraint("prompt_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    zone: Mapped[Zone] = mapped_column(String(16), default="exploration")
    author: Mapped[str] = mapped_column(String(128))
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)  # system, user, context_item, stop
    # the gate a version must pass to reach production: {"set": name, "thresholds": {...}}
    gate: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PromptPromotion(Base):
    """Every change of a prompt's production version: promotions (with the eval run that
    justified them) and rollbacks."""

    __tablename__ = "prompt_promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))  # promote | rollback | seed
    version: Mapped[int] = mapped_column(Integer)
    previous_version: Mapped[int | None] = mapped_column(Integer, default=None)
    run_id: Mapped[str | None] = mapped_column(
        ForeignKey("eval_runs.id", ondelete="SET NULL"), default=None)
    approved_by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)
