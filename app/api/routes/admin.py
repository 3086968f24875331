"""Admin: re-index a collection as a background job, read its progress, manage grants."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Admin, ServicesDep
from app.api.schemas.admin import Grants, GrantsRequest
from app.knowledge.job_records import Job

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/collections/{name}/reindex", status_code=202)
def reindex(name: str, services: ServicesDep, admin: Admin, response: Response) -> Job:
    """Start a re-index in the background; poll the job (the ``Location``) for progress."""
    services.collections.get(name)  # 404 for an unknown collection
    job = services.jobs.start_reindex(name, actor=admin.actor)
    response.headers["Location"] = f"/v1/admin/jobs/{job.id}"
    return job


@router.get("/jobs/{job_id}")
def job(job_id: str, services: ServicesDep, _admin: Admin) -> Job:
    """A re-index job: progress, outcome and every file it skipped, with the reason."""
    return services.jobs.get(job_id)


@router.get("/collections/{name}/grants")
def grants(name: str, services: ServicesDep, _admin: Admin) -> Grants:
    """Who may read the collection, besides admins."""
    return Grants.model_validate(services.access.grants(name), from_attributes=True)


@router.put("/collections/{name}/grants")
def set_grants(name: str, body: GrantsRequest, services: ServicesDep,
               admin: Admin) -> Grants:
    """Replace who may read the collection: everyone, and/or a list of teams."""
    before, after = services.access.set_grants(name, everyone=body.everyone, teams=body.teams)
    if before != after:
        services.audit.record(admin.actor, "grants_changed", name,
                              before={k: before[k] for k in ("everyone", "teams")},
                              after={k: after[k] for k in ("everyone", "teams")})
    return Grants.model_validate(after, from_attributes=True)
