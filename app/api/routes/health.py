"""Liveness and readiness. Both stay fast while the LLM is generating, and both answer without
credentials, so they name no collection: readiness reports counts only."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from app.api.deps import ServicesDep
from app.core.errors import VraagbaakError
from app.knowledge.tables import Collection
from models.errors import ModelError

router = APIRouter(tags=["health"])
log = logging.getLogger("vraagbaak.health")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    ok = True
    try:
        with services.sessions() as session:
            session.execute(text("SELECT 1"))
            names = session.execute(select(Collection.name, Collection.embedder)).all()
        checks["database"] = "ok"
    except Exception:
        return JSONResponse({"status": "unavailable", "checks": {"database": "unreachable"}},
                            status_code=503)
    counts = {"serving": 0, "not_indexed": 0, "failing": 0}
    for name, embedder in names:
        try:
            snap = services.search.snapshot(name, services.embedders.get(embedder))
            counts["serving" if snap else "not_indexed"] += 1
        except (VraagbaakError, ModelError) as exc:  # e.g. the collection's own model is gone
            log.warning("collection %s is not ready: %s", name, exc)
            counts["failing"] += 1
            ok = False
    checks["collections"] = counts
    checks["llm"] = {"model": services.worker.llm.model_id, "busy": services.worker.busy.is_set(),
                     "waiting": services.worker.waiting}
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks},
                        status_code=200 if ok else 503)
