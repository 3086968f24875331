"""One row per time the pulse was put to a person: ``score`` is their answer (0-10), or None
when they dismissed it. Either way the row counts as "asked", so nobody is asked again before
the period (``VRAAGBAAK_PULSE__PERIOD_DAYS``) has passed. The adoption figures read the scored
rows (``app.analytics``): promoters score 9-10, detractors 0-6, NPS = % promoters - %
detractors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow


class NpsResponse(Base):
    __tablename__ = "nps_responses"
    # "when was this person last asked" and the figures' weekly scan both read this index
    __table_args__ = (Index("ix_nps_responses_user_asked", "user_id", "asked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
