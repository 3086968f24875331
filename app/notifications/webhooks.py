"""Notifications as signed webhooks too (optional): every notification made is also sent to
each of ``knowledge_issues.webhook_urls`` (a chat bridge, say), by the machinery of the
approval webhooks (``app.review.webhooks.SignedOutbox``: the same signature, claim, retries
with backoff and worker thread). The rows are added in the transaction that makes the
notification. The payload names who is told, the issue and what was done; it carries no
question or answer text, so retention has nothing to blank in it. Each attempt is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.audit.log import AuditLog
from app.core.settings import KnowledgeIssueSettings, ReviewSettings
from app.core.tables import utcnow
from app.notifications.tables import NotificationDelivery
from app.review.webhooks import MAX_ERROR_CHARS, Claimed, Sent, SignedOutbox

EVENT = "notification.created"


class NotificationWebhooks(SignedOutbox):
    table = NotificationDelivery
    subject_column = "notification_id"
    thread_name = "notification-webhooks"
    default_event = EVENT

    def __init__(self, sessions: sessionmaker[Session], settings: KnowledgeIssueSettings,
                 review: ReviewSettings, audit: AuditLog, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(sessions, audit, review, settings.secret(review), transport=transport)
        self._urls = list(settings.webhook_urls)

    def enqueue(self, session: Session, notification_id: str, payload: dict[str, Any]
                ) -> list[str]:
        """Add a delivery per receiver to the caller's transaction; their ids."""
        now = utcnow()
        rows = [NotificationDelivery(id=uuid.uuid4().hex, notification_id=notification_id,
                                     url=url, payload={"event": EVENT, **payload},
                                     next_attempt_at=now, created_at=now)
                for url in self._urls]
        session.add_all(rows)
        return [row.id for row in rows]

    def _finish(self, session: Session, job: Claimed, sent: Sent) -> dict[str, Any]:
        error = "" if sent.ok else (sent.error or f"HTTP {sent.status_code}")
        return {"last_error": error[:MAX_ERROR_CHARS]}

    def _announce(self, job: Claimed, sent: Sent, attempts: int, status: str | None) -> None:
        action = {"delivered": "notification_webhook_delivered",
                  "failed": "notification_webhook_failed"}.get(
            status or "", "notification_webhook_retrying")
        self._audit.record("system", action, job.subject, delivery_id=job.id, url=job.url,
                           attempts=attempts, status_code=sent.status_code, error=sent.error)
