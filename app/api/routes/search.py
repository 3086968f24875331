"""``GET /v1/search`` and ``GET /v1/collections``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.api.deps import Agent, CurrentUser, Readable, ServicesDep

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search")
async def search(
    services: ServicesDep,
    user: Agent,
    readable: Readable,
    q: Annotated[str, Query(min_length=1, max_length=4000, description="The query.")],
    collection: Annotated[list[str] | None, Query(description="Repeatable; none = all.")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="Results to return.")] = 10,
) -> dict[str, Any]:
    result = await run_in_threadpool(
        services.search.search, q, collection or [], allowed=readable, k=k)
    await run_in_threadpool(
        services.audit.record, user.actor, "searched", "", query=q[:1000],
        collections=sorted(result.snapshot_ids), shown=[h.chunk_id for h in result.hits])
    return {
        "query": q,
        "results": [
            {"chunk_id": h.chunk_id, "score": round(h.score, 6), "collection": h.collection,
             "document": h.document, "title": h.title, "heading": h.heading, "page": h.page,
             "text": h.text, "dense_score": h.dense_score, "lexical_score": h.lexical_score}
            for h in result.hits
        ],
        "snapshot_ids": result.snapshot_ids,
    }


@router.get("/collections")
def collections(services: ServicesDep, user: CurrentUser, readable: Readable) -> dict[str, Any]:
    """The collections the caller may read; admins also see who may read each."""
    listed = services.collections.list(readable=readable)
    if user.is_admin:
        grants = services.access.all_grants()
        for c in listed:
            c["access"] = {k: v for k, v in grants[c["name"]].items() if k != "collection"}
    return {"collections": listed}
