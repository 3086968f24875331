"""``GET /v1/search`` and ``GET /v1/collections``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from app.api.deps import Agent, CurrentUser, Readable, ServicesDep
from app.api.schemas.errors import PARAMETERS, SIGNED_IN, WITH_ROLE, errors
from app.knowledge.records import CollectionAccess, CollectionList, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", responses=WITH_ROLE | PARAMETERS | errors(404, 503))
async def search(
    services: ServicesDep,
    user: Agent,
    readable: Readable,
    q: Annotated[str, Query(min_length=1, max_length=4000, description="The query.")],
    collection: Annotated[list[str] | None, Query(description="Repeatable; none = all.")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="Results to return.")] = 10,
) -> SearchResponse:
    result = await run_in_threadpool(
        services.search.search, q, collection or [], allowed=readable, k=k)
    await run_in_threadpool(
        services.audit.record, user.actor, "searched", "", query=q[:1000],
        collections=sorted(result.snapshot_ids), shown=[h.chunk_id for h in result.hits])
    return SearchResponse.of(q, result)


@router.get("/collections", response_model_exclude_unset=True, responses=SIGNED_IN)
def collections(services: ServicesDep, user: CurrentUser, readable: Readable) -> CollectionList:
    """The collections the caller may read; admins also see who may read each."""
    listed = services.collections.list(readable=readable)
    if user.is_admin:
        grants = services.access.all_grants()
        listed = [c.model_copy(update={"access": CollectionAccess(
            everyone=grants[c.name]["everyone"], teams=grants[c.name]["teams"])})
            for c in listed]
    return CollectionList(collections=listed)
