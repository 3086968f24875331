"""Admin: export and verify the audit trail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.api.deps import Admin, ServicesDep
from app.api.schemas.errors import PARAMETERS, WITH_ROLE
from app.api.schemas.rules import IsoTime
from app.audit.log import AuditFilter, to_csv, to_jsonl
from app.audit.records import AuditVerification

router = APIRouter(prefix="/v1/admin/audit", tags=["admin: audit"], responses=WITH_ROLE)


@router.get("", response_class=StreamingResponse, responses=PARAMETERS)
def export(
    services: ServicesDep,
    admin: Admin,
    actor: Annotated[str | None, Query(max_length=128, description="Who (username).")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. login_failed.")] = None,
    since: Annotated[IsoTime | None, Query(description="ISO time, inclusive (UTC if it "
                                           "names no offset).")] = None,
    until: Annotated[IsoTime | None, Query(description="ISO time, exclusive.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl",
) -> StreamingResponse:
    """The audit trail as JSON lines or CSV, oldest first, filtered."""
    where = AuditFilter(actor=actor, action=action, since=since, until=until, limit=limit)
    services.audit.record(admin.actor, "audit_exported", format=format,
                          filter={"actor": actor, "action": action, "since": str(since or ""),
                                  "until": str(until or ""), "limit": limit})
    rows = services.audit.entries(where)
    if format == "csv":
        return StreamingResponse(to_csv(rows), media_type="text/csv",
                                 headers={"Content-Disposition": "attachment; filename=audit.csv"})
    return StreamingResponse(to_jsonl(rows), media_type="application/x-ndjson")


@router.get("/verify")
def verify(services: ServicesDep, _admin: Admin) -> AuditVerification:
    """Recompute the hash chain; names the first broken entry."""
    return services.audit.verify()
