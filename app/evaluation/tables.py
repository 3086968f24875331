"""Evaluation runs: everything needed to reproduce one (set name and hash, prompt version,
model, snapshot ids, settings) and its per-question results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow


class EvalRun(Base):
    __tablename__ = "eval_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    set_name: Mapped[str] = mapped_column(String(100), index=True)
    set_hash: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(String(80), index=True)  # id@version, resolved
    model_id: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # k, retrieval_only, settings
    snapshot_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    questions_total: Mapped[int] = mapped_column(Integer, default=0)
    questions_done: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # the process running it and when it last said so (``app.core.background``)
    owner: Mapped[str | None] = mapped_column(String(128), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # who started it (user id, name, roles, teams) and what they could read: a process
    # resuming the run runs it as them
    started_as: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
