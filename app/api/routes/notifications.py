"""``/v1/notifications``: your in-app notifications (what was done about what you reported),
and marking one read."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, Readable, ServicesDep
from app.api.schemas.errors import SIGNED_IN, errors
from app.api.schemas.rules import Id
from app.notifications.records import Notification, Notifications

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], responses=SIGNED_IN)


@router.get("", responses=errors(403))
def mine(services: ServicesDep, user: CurrentUser, readable: Readable) -> Notifications:
    """Your notifications, newest first, with the unread count."""
    return services.notifications.mine(user, readable=readable)


@router.post("/{notification_id}/read", responses=errors(403, 404, 422))
def mark_read(notification_id: Id, services: ServicesDep, user: CurrentUser,
              readable: Readable) -> Notification:
    return services.notifications.mark_read(notification_id, user, readable=readable)
