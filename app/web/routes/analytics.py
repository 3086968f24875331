"""The adoption page (/analytics) for managers and admins: every figure as "baseline -> now
(+x %)" for the company or per team, role or collection, weekly bar charts drawn on the server
as inline SVG (no script, no inline style: classes of ``analytics.css``), CSV links, and the
admin's baseline form.

Same service calls as ``app.api.routes.analytics``, so the page shows what the API returns:
suppressed figures read "fewer than k" here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.analytics.records import GROUPINGS, MEANINGS, FigureName, Grouping, Series, Unit, Value
from app.analytics.service import MAX_WEEKS
from app.api.deps import ServicesDep
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.web.rendering import N_, render
from app.web.session import FormUser, PageUser, with_role
from app.wiring import Services

router = APIRouter(include_in_schema=False)

LABELS: dict[FigureName, str] = {
    "active_users_daily": N_("Active people per day"),
    "active_users_weekly": N_("Active people per week"),
    "active_users_monthly": N_("Active people in 28 days"),
    "questions": N_("Questions asked"),
    "answered_share": N_("Answered"),
    "refused_share": N_("Refused"),
    "thumbs_up_share": N_("Thumbs up"),
    "self_service_share": N_("Self-service"),
    "drafts_requested": N_("Drafts requested"),
    "approval_rate": N_("Drafts approved"),
    "approved_as_is_rate": N_("Approved as is"),
    "approval_minutes_p50": N_("Minutes to approval (median)"),
    "approval_minutes_p90": N_("Minutes to approval (90th percentile)"),
    "nps": N_("Net promoter score"),
}
GROUPING_LABELS: dict[Grouping, str] = {
    "all": N_("Whole company"), "team": N_("Per team"), "role": N_("Per role"),
    "collection": N_("Per collection")}
CHARTED: tuple[FigureName, ...] = ("active_users_weekly", "questions", "answered_share",
                                   "thumbs_up_share", "self_service_share", "approval_rate",
                                   "approval_minutes_p50", "nps")
CHART_WEEKS = 12
WIDTH, HEIGHT, GAP = 360, 120, 4


def shown(value: Value | None, unit: Unit) -> str:
    """A figure's number as the page writes it ("" when absent or suppressed)."""
    if value is None or value.value is None:
        return ""
    if unit == "share":
        return f"{value.value * 100:.1f} %"
    if float(value.value).is_integer():
        return f"{int(value.value)}"
    return f"{value.value:.2f}"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    week: str
    text: str  # the value as written, "" when suppressed or absent
    suppressed: bool


def bars(series: Series, name: FigureName, unit: Unit) -> list[Bar]:
    """One bar per week of the company's series, scaled to the highest shown value."""
    weeks = series.groups[0].weeks if series.groups else []
    values = [w.figures[name].value for w in weeks]
    top = max([abs(v) for v in values if v is not None] + [1.0 if unit == "share" else 0.0])
    width = (WIDTH - GAP * len(weeks)) / max(len(weeks), 1)
    out = []
    for i, week in enumerate(weeks):
        v = week.figures[name]
        height = (abs(v.value) / top * (HEIGHT - 10)) if v.value is not None and top else 0.0
        if v.suppressed:
            height = 4.0  # a stub, drawn hatched: the week exists, its figure is withheld
        out.append(Bar(x=round(i * (width + GAP), 1), y=round(HEIGHT - height, 1),
                       width=round(width, 1), height=round(height, 1), week=week.week,
                       text=shown(v, unit), suppressed=v.suppressed))
    return out


def _manager(user: Principal) -> Principal:
    return with_role(user, "manager")


def _page(request: Request, services: Services, user: Principal, by: str, weeks: int | None,
          *, error: str = "", status_code: int = 200) -> HTMLResponse:
    grouping: Grouping = next((g for g in GROUPINGS if g == by), "all")
    comparison = services.analytics.compare(grouping, weeks)
    series = services.analytics.series("all", CHART_WEEKS)
    charts = [{"name": f, "label": LABELS[f], "meaning": MEANINGS[f][0],
               "bars": bars(series, f, MEANINGS[f][1])} for f in CHARTED]
    return render(request, "analytics/page.html", user=user, status_code=status_code,
                  comparison=comparison, by=grouping, weeks=len(comparison.now.weeks),
                  max_weeks=MAX_WEEKS, labels=LABELS, grouping_labels=GROUPING_LABELS,
                  groupings=GROUPINGS, charts=charts, chart_width=WIDTH, chart_height=HEIGHT,
                  shown=shown, baseline=services.analytics.baselines.current(),
                  series_period=series.period, error=error,
                  csv_links={g: f"/v1/analytics/weekly.csv?by={g}&weeks={CHART_WEEKS}"
                             for g in GROUPINGS})


@router.get("/analytics", response_class=HTMLResponse)
def analytics_page(request: Request, services: ServicesDep, user: PageUser, by: str = "all",
                   weeks: int = 0) -> HTMLResponse:
    chosen = weeks if 1 <= weeks <= MAX_WEEKS else None
    return _page(request, services, _manager(user), by[:16], chosen)


@router.post("/analytics/baseline", response_class=HTMLResponse, response_model=None)
def choose_baseline(request: Request, services: ServicesDep, user: FormUser,
                    start: Annotated[str, Form(max_length=10)] = "",
                    end: Annotated[str, Form(max_length=10)] = "",
                    ) -> HTMLResponse | RedirectResponse:
    admin = with_role(user, "admin")
    try:
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise InvalidInput("give both days as YYYY-MM-DD", code="invalid_period") from None
        services.analytics.choose_baseline(first, last, admin)
    except InvalidInput as exc:
        return _page(request, services, admin, "all", None, error=exc.message,
                     status_code=exc.status)
    return RedirectResponse("/analytics", status_code=303)

