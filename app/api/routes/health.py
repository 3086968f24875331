"""Liveness and readiness. Both stay fast while the LLM is generating."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select, text

from app.api.deps import ServicesDep
from app.errors import VraagbaakError
from app.tables import Collection
from models.errors import ModelError

router = APIRouter(tags=["health"])


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
    for name, embedder in names:
        try:
            snap = services.search.snapshot(name, services.embedders.get(embedder))
            checks[f"collection:{name}"] = snap.meta.id if snap else "not indexed"
        except VraagbaakError as exc:
            checks[f"collection:{name}"] = exc.message
            ok = False
        except ModelError as exc:  # the collection's own embedding model is gone
            checks[f"collection:{name}"] = str(exc)
            ok = False
    checks["llm"] = {"model": services.worker.llm.model_id, "busy": services.worker.busy.is_set(),
                     "waiting": services.worker.waiting}
    return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks},
                        status_code=200 if ok else 503)
