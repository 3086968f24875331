"""What a notification says, as the person it is for reads it."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.review.records import Timestamp

NotificationKind = Literal["issue_resolved"]
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind)


class ReindexNote(BaseModel):
    """A re-index that changed a document the issue cited."""

    job_id: str
    document: str
    change: str = Field(description="changed or removed.")


class Notification(BaseModel):
    notification_id: str
    kind: NotificationKind
    issue_id: str | None
    created_at: Timestamp
    read: bool
    resolution: str = Field(description="document_changed or works_as_intended.")
    reason: str = Field(description="What the owner said was done, or why it stands.")
    resolved_by: str
    reindexes: list[ReindexNote]
    question: str = Field(description="The question you reported, while it is stored; "
                          "\"\" once retention removed it.")
    reask_url: str = Field(description="The ask page with the question filled in.")


class Notifications(BaseModel):
    unread: int
    notifications: list[Notification] = Field(description="Newest first, at most 100.")
