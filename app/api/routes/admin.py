"""Admin: re-index a collection as a background job, read its progress, manage grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Admin, ServicesDep
from app.api.schemas.admin import Grants, GrantsRequest, JobList
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.rules import Id, Name
from app.knowledge.job_records import Job

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=WITH_ROLE)


@router.post("/collections/{name}/reindex", status_code=202, responses=errors(404, 409, 422))
def reindex(name: Name, services: ServicesDep, admin: Admin, response: Response) -> Job:
    """Start a re-index in the background; poll the job (the ``Location``) for progress."""
    services.collections.get(name)  # 404 for an unknown collection
    job = services.jobs.start_reindex(name, actor=admin.actor)
    response.headers["Location"] = f"/v1/admin/jobs/{job.id}"
    return job


@router.get("/collections/{name}/jobs", responses=errors(404, 422))
def jobs(name: Name, services: ServicesDep, _admin: Admin,
         limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first.")] = 20,
         ) -> JobList:
    """The collection's latest re-indexes: who started them, their state, progress and the
    process that runs or ran each."""
    services.collections.get(name)  # 404 for an unknown collection
    return JobList(jobs=services.jobs.recent(name, limit=limit))


@router.get("/jobs/{job_id}", responses=errors(404, 422))
def job(job_id: Id, services: ServicesDep, _admin: Admin) -> Job:
    """A re-index job: progress, outcome and every file it skipped, with the reason."""
    return services.jobs.get(job_id)


@router.get("/collections/{name}/grants", responses=errors(404, 422))
def grants(name: Name, services: ServicesDep, _admin: Admin) -> Grants:
    """Who may read the collection, besides admins."""
    return Grants.model_validate(services.access.grants(name), from_attributes=True)


@router.put("/collections/{name}/grants", responses=JSON_BODY | errors(404))
def set_grants(name: Name, body: GrantsRequest, services: ServicesDep,
               admin: Admin) -> Grants:
    """Replace who may read the collection: everyone, and/or a list of teams."""
    before, after = services.access.set_grants(name, everyone=body.everyone, teams=body.teams)
    if before != after:
        services.audit.record(admin.actor, "grants_changed", name,
                              before={k: before[k] for k in ("everyone", "teams")},
                              after={k: after[k] for k in ("everyone", "teams")})
    return Grants.model_validate(after, from_attributes=True)
