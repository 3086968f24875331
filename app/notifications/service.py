"""In-app notifications: written by the feature that has news (in its own transaction, so
the news and the notification are stored together), read and marked read by their person.

A notification about a knowledge issue is shown only while its reader may still read every
collection the issue drew on, by the usual ``readable`` rule: a revoked grant hides it like
the issue itself. The question for "ask again" is read from the stored answer each time, so
it disappears with the answer text when retention removes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection as Names
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.answering.tables import Answer
from app.audit.log import AuditLog
from app.core.errors import Forbidden, NotFound
from app.core.principal import Principal
from app.core.tables import utcnow
from app.core.transitions import conditional_update
from app.identity.tables import User
from app.notifications.records import Notification, NotificationKind, Notifications, ReindexNote
from app.notifications.tables import Notification as Row
from app.notifications.webhooks import NotificationWebhooks

LIMIT = 100


def reask_url(question: str) -> str:
    return "/ask?" + urlencode({"q": question}) if question else "/ask"


class NotificationService:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog,
                 webhooks: NotificationWebhooks | None = None) -> None:
        self._sessions = sessions
        self._audit = audit
        self._webhooks = webhooks  # None: notifications are in-app only

    def add(self, session: Session, user_id: int, kind: NotificationKind, *,
            collections: list[str], details: dict[str, Any], issue_id: str | None = None,
            answer_id: str | None = None) -> str:
        """Add a notification (and its webhook deliveries) in the caller's transaction;
        returns its id. Call ``sent`` after the commit."""
        row = Row(id=uuid.uuid4().hex, user_id=user_id, kind=kind, issue_id=issue_id,
                  answer_id=answer_id, collections=collections, details=details)
        session.add(row)
        if self._webhooks is not None:
            username = session.scalar(select(User.username).where(User.id == user_id))
            self._webhooks.enqueue(session, row.id, {
                "notification_id": row.id, "kind": kind, "user": username or "",
                "issue_id": issue_id, **details})
        return row.id

    def sent(self) -> None:
        """Wake the webhook worker for what the last commit added."""
        if self._webhooks is not None:
            self._webhooks.notify()

    def mine(self, reader: Principal, *, readable: Names[str]) -> Notifications:
        user_id = self._user(reader)
        allowed = set(readable)
        with self._sessions() as session:
            rows = [r for r in session.scalars(
                select(Row).where(Row.user_id == user_id)
                .order_by(Row.created_at.desc(), Row.id)).all()
                if set(r.collections) <= allowed]
            questions = dict(session.execute(select(Answer.id, Answer.question).where(
                Answer.id.in_([r.answer_id for r in rows[:LIMIT] if r.answer_id])))
                .all()) if rows else {}
        return Notifications(unread=sum(r.read_at is None for r in rows),
                             notifications=[self._view(r, questions) for r in rows[:LIMIT]])

    def unread(self, reader: Principal, *, readable: Names[str]) -> int:
        return self.mine(reader, readable=readable).unread

    def mark_read(self, notification_id: str, reader: Principal, *,
                  readable: Names[str]) -> Notification:
        """Mark one of the reader's notifications read (404 for anyone else's)."""
        user_id = self._user(reader)
        with self._sessions() as session:
            done = conditional_update(session, Row, Row.id == notification_id,
                                      Row.user_id == user_id, Row.read_at.is_(None),
                                      read_at=utcnow())
            session.commit()
        if done:
            self._audit.record(reader.actor, "notification_read", notification_id)
        for seen in self.mine(reader, readable=readable).notifications:
            if seen.notification_id == notification_id:
                return seen
        raise NotFound("notification not found", code="notification_not_found")

    @staticmethod
    def _user(reader: Principal) -> int:
        if reader.user_id is None:
            raise Forbidden("notifications are a signed-in person's", code="no_user")
        return reader.user_id

    @staticmethod
    def _view(row: Row, questions: dict[str, str]) -> Notification:
        details = row.details
        question = questions.get(row.answer_id or "", "") or ""
        return Notification(
            notification_id=row.id, kind=row.kind, issue_id=row.issue_id,
            created_at=row.created_at, read=row.read_at is not None,
            resolution=str(details.get("resolution", "")),
            reason=str(details.get("reason", "")),
            resolved_by=str(details.get("resolved_by", "")),
            reindexes=[ReindexNote.model_validate(r) for r in details.get("reindexes", [])],
            question=question, reask_url=reask_url(question))
