"""``/v1/knowledge/gaps``: the knowledge base's to-do list for admins and collection owners
(anyone else: 403 ``not_an_owner``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, ServicesDep
from app.api.schemas.errors import PARAMETERS, WITH_ROLE
from app.knowledge_gaps.records import GapQuery, GapReport

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge gaps"], responses=WITH_ROLE)


@router.get("/gaps", responses=PARAMETERS)
def gaps(
    services: ServicesDep, user: CurrentUser,
    window_days: Annotated[int | None, Query(
        ge=1, le=3660, description="Questions refused or voted down in this many days "
        "(default gaps.window_days).")] = None,
    uncited_days: Annotated[int | None, Query(
        ge=1, le=3660, description="Documents not cited in this many days (default "
        "gaps.uncited_days).")] = None,
    max_age_days: Annotated[int | None, Query(
        ge=1, le=36600, description="Documents dated longer ago than this (default "
        "gaps.max_age_days).")] = None,
) -> GapReport:
    """Topics of refused or voted-down questions (with counts, trend, examples and the
    collections searched), documents no answer cited, and documents older than an age by
    their own date; over the collections you may read and own (an admin: all)."""
    return services.gaps.report(user, GapQuery(window_days=window_days,
                                                uncited_days=uncited_days,
                                                max_age_days=max_age_days))
