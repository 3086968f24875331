"""``/v1/handoffs``: where your "I still need a person" hand-offs to the service desk stand
(only your own; the receiver's URL and errors are the admin's, in the audit log)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, ServicesDep
from app.api.schemas.errors import WITH_ROLE
from app.feedback.records import Handoff

router = APIRouter(prefix="/v1/handoffs", tags=["feedback"], responses=WITH_ROLE)


@router.get("")
def mine(services: ServicesDep, user: CurrentUser) -> list[Handoff]:
    """Your hand-offs, newest first (at most 100): queued, retrying, delivered or failed."""
    return services.feedback.handoffs(user)
