"""``/v1/admin/privacy``: the audited export of one person's records (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import Admin, ServicesDep
from app.api.schemas.errors import WITH_ROLE, errors
from app.privacy.records import SubjectExport

router = APIRouter(prefix="/v1/admin/privacy", tags=["admin"], responses=WITH_ROLE)


@router.get("/export", responses=errors(404, 422))
def export(user: Annotated[str, Query(min_length=1, max_length=64,
                                      description="The person's username.")],
           services: ServicesDep, admin: Admin) -> SubjectExport:
    """Everything stored about the person's use of the assistant: answers, conversations,
    feedback, hand-offs, drafts, NPS pulse rows. Recorded in the audit trail (who, whose,
    counts)."""
    return services.privacy.export(user, admin)
