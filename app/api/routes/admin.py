"""Admin: re-index a collection as a background job, read its progress, manage grants."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import Admin, ServicesDep
from app.api.schemas.admin import GrantsRequest

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/collections/{name}/reindex", status_code=202)
def reindex(name: str, services: ServicesDep, admin: Admin) -> JSONResponse:
    services.collections.get(name)  # 404 for an unknown collection
    job = services.jobs.start_reindex(name, actor=admin.actor)
    return JSONResponse(job, status_code=202, headers={"Location": f"/v1/admin/jobs/{job['id']}"})


@router.get("/jobs/{job_id}")
def job(job_id: str, services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    return services.jobs.get(job_id)


@router.get("/collections/{name}/grants")
def grants(name: str, services: ServicesDep, _admin: Admin) -> dict[str, Any]:
    return services.access.grants(name)


@router.put("/collections/{name}/grants")
def set_grants(name: str, body: GrantsRequest, services: ServicesDep,
               admin: Admin) -> dict[str, Any]:
    """Replace who may read the collection: everyone, and/or a list of teams."""
    before, after = services.access.set_grants(name, everyone=body.everyone, teams=body.teams)
    if before != after:
        services.audit.record(admin.actor, "grants_changed", name,
                              before={k: before[k] for k in ("everyone", "teams")},
                              after={k: after[k] for k in ("everyone", "teams")})
    return after
