"""Liveness and readiness. Both stay fast while the LLM is generating, and both answer without
credentials, so they name no collection: readiness reports counts only.

``/readyz`` answers 503 with the same ``Readiness`` body when something is not ready, so a
load balancer reads the status and a person reads which check failed.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, text

from app.api.deps import ServicesDep
from app.core.errors import VraagbaakError
from app.knowledge.tables import Collection
from models.errors import ModelError

router = APIRouter(tags=["health"])
log = logging.getLogger("vraagbaak.health")


class Health(BaseModel):
    """The process is up and serving HTTP."""

    status: Literal["ok"] = "ok"


class CollectionCounts(BaseModel):
    """How many collections are in each state (never which: no credentials are needed)."""

    serving: int = Field(0, description="Has an index snapshot that loads.")
    not_indexed: int = Field(0, description="Not indexed yet.")
    failing: int = Field(0, description="Its snapshot or embedding model fails to load.")


class LLMState(BaseModel):
    """The single LLM worker."""

    model: str
    busy: bool = Field(description="An answer is being generated now.")
    waiting: int = Field(description="Answers queued behind it.")


class ReadinessChecks(BaseModel):
    database: Literal["ok", "unreachable"]
    collections: CollectionCounts | None = Field(None, description="Absent when the database "
                                                 "is unreachable.")
    llm: LLMState | None = Field(None, description="Absent when the database is unreachable.")


class Readiness(BaseModel):
    """ok (200); degraded or unavailable (503), with the check that failed."""

    status: Literal["ok", "degraded", "unavailable"]
    checks: ReadinessChecks


@router.get("/healthz")
def healthz() -> Health:
    return Health()


@router.get("/readyz", response_model_exclude_none=True,
            responses={503: {"model": Readiness, "description": "Not ready."}})
def readyz(services: ServicesDep, response: Response) -> Readiness:
    try:
        with services.sessions() as session:
            session.execute(text("SELECT 1"))
            names = session.execute(select(Collection.name, Collection.embedder)).all()
    except Exception:
        response.status_code = 503
        return Readiness(status="unavailable", checks=ReadinessChecks(database="unreachable"))
    counts = CollectionCounts()
    for name, embedder in names:
        try:
            snap = services.search.snapshot(name, services.embedders.get(embedder))
        except (VraagbaakError, ModelError) as exc:  # e.g. the collection's own model is gone
            log.warning("collection %s is not ready: %s", name, exc)
            counts.failing += 1
            continue
        if snap:
            counts.serving += 1
        else:
            counts.not_indexed += 1
    worker = services.worker
    checks = ReadinessChecks(database="ok", collections=counts, llm=LLMState(
        model=worker.llm.model_id, busy=worker.busy.is_set(), waiting=worker.waiting))
    if counts.failing:
        response.status_code = 503
    return Readiness(status="degraded" if counts.failing else "ok", checks=checks)
