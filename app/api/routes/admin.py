"""Admin: start a re-index of a collection as a background job, and read its progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import Readable, ServicesDep
from app.errors import NotFound

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/collections/{name}/reindex", status_code=202)
def reindex(name: str, services: ServicesDep, readable: Readable) -> JSONResponse:
    if name not in readable:
        raise NotFound(f"collection '{name}' not found", code="collection_not_found")
    job = services.jobs.start_reindex(name)
    return JSONResponse(job, status_code=202, headers={"Location": f"/v1/admin/jobs/{job['id']}"})


@router.get("/jobs/{job_id}")
def job(job_id: str, services: ServicesDep) -> dict[str, Any]:
    return services.jobs.get(job_id)
