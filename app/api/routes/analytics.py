"""``/v1/analytics``: the adoption figures, for the manager role (admins hold every role).

Aggregates only, each passed through the k rule: the overview and the breakdowns compare the
baseline with the last complete weeks; the weekly series comes as JSON or CSV. Choosing the
baseline is the admin's, and audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.analytics.records import Baseline, Comparison, Grouping, Series
from app.analytics.service import MAX_WEEKS, series_csv
from app.api.deps import Admin, ServicesDep, require
from app.api.schemas.analytics import BaselineRequest
from app.api.schemas.errors import JSON_BODY, PARAMETERS, WITH_ROLE, errors
from app.core.errors import NotFound
from app.core.principal import Principal

router = APIRouter(prefix="/v1/analytics", tags=["analytics"], responses=WITH_ROLE)

Manager = Annotated[Principal, Depends(require("manager"))]
Weeks = Annotated[int | None, Query(ge=1, le=MAX_WEEKS, description="\"Now\": the last "
                                    "complete ISO weeks (default: analytics.weeks).")]
SeriesWeeks = Annotated[int, Query(ge=1, le=MAX_WEEKS, description="How many complete ISO "
                                   "weeks, the last first.")]
Breakdown = Annotated[Grouping, Query(description="team, role or collection (all: the "
                                      "company as one group).")]


@router.get("/overview", responses=PARAMETERS)
def overview(services: ServicesDep, _user: Manager, weeks: Weeks = None) -> Comparison:
    """Every figure for the whole company: baseline -> now, change in %."""
    return services.analytics.compare("all", weeks)


@router.get("/breakdown", responses=PARAMETERS)
def breakdown(services: ServicesDep, _user: Manager, by: Breakdown = "team",
              weeks: Weeks = None) -> Comparison:
    """Every figure per team, role or collection (listed by name, never ranked)."""
    return services.analytics.compare(by, weeks)


@router.get("/weekly", responses=PARAMETERS)
def weekly(services: ServicesDep, _user: Manager, by: Breakdown = "all",
           weeks: SeriesWeeks = 12) -> Series:
    """The figures week by week, oldest first."""
    return services.analytics.series(by, weeks)


@router.get("/weekly.csv", response_class=Response, responses=PARAMETERS | {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}},
          "description": "week, week_start, by, group, figure, value, people, suppressed: "
                         "one row per week, group and figure; suppressed values are empty."}})
def weekly_csv(services: ServicesDep, _user: Manager, by: Breakdown = "all",
               weeks: SeriesWeeks = 12) -> Response:
    """The weekly series as CSV, under the same k rule."""
    body = series_csv(services.analytics.series(by, weeks))
    return Response(body, media_type="text/csv", headers={
        "Content-Disposition": f"attachment; filename=adoption-{by}.csv"})


@router.get("/baseline", responses=errors(404))
def baseline(services: ServicesDep, _user: Manager) -> Baseline:
    """The baseline period (404 ``baseline_not_set`` until an admin chooses one)."""
    chosen = services.analytics.baselines.current()
    if chosen is None:
        raise NotFound("no baseline was chosen yet", code="baseline_not_set")
    return chosen


@router.put("/baseline", responses=JSON_BODY)
def choose_baseline(body: BaselineRequest, services: ServicesDep, admin: Admin) -> Baseline:
    """Choose the baseline period every figure is compared with (audited)."""
    return services.analytics.choose_baseline(body.start, body.end, admin)
