"""In-app notifications: one row per person per event (today: a knowledge issue they
reported was resolved). ``details`` holds what was done (resolution, reason, the linked
re-indexes and documents), never the question or answer text: the re-ask link reads the
question from ``answers`` when the list is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from app.notifications.records import NotificationKind
from app.review.vocabulary import DeliveryStatus


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "read_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[NotificationKind] = mapped_column(String(32))
    issue_id: Mapped[str | None] = mapped_column(
        ForeignKey("knowledge_issues.id", ondelete="CASCADE"), default=None, index=True)
    # the reporter's own answer: what "ask again" re-asks
    answer_id: Mapped[str | None] = mapped_column(
        ForeignKey("answers.id", ondelete="SET NULL"), default=None)
    collections: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class NotificationDelivery(Base):
    """One notification sent to one webhook URL (``knowledge_issues.webhook_urls``). Written
    in the transaction that makes the notification, sent and retried like an approval
    webhook (``app.review.webhooks.SignedOutbox``). The payload names the issue, what was done
    and who is told; no question or answer text."""

    __tablename__ = "notification_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
