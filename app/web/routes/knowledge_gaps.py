"""The knowledge gaps page: the same report as ``GET /v1/knowledge/gaps``, for an admin or a
collection owner (anyone else sees the 403 page), with its three day counts in a plain GET
form, so a report is a link that can be shared or bookmarked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ServicesDep
from app.core.settings import GapSettings
from app.knowledge_gaps.records import GapQuery
from app.web.rendering import N_, render
from app.web.session import PageUser

router = APIRouter(include_in_schema=False)

# the trend's labels (English msgids, translated in the template)
TREND_LABELS = {"new": N_("new"), "rising": N_("rising"), "steady": N_("steady"),
                "falling": N_("falling")}
# each form field: (its bounds, the label's msgid)
FIELDS = {
    "window_days": (3660, N_("Questions of the last (days)")),
    "uncited_days": (3660, N_("Not cited in (days)")),
    "max_age_days": (36600, N_("Older than (days)")),
}


def _days(value: str, most: int) -> int | None:
    """A day count from the form; None (the default) when empty or not a count in range."""
    value = value.strip()
    if not value.isdigit() or len(value) > 6:
        return None
    days = int(value)
    return days if 1 <= days <= most else None


@router.get("/knowledge/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, services: ServicesDep, user: PageUser, window_days: str = "",
              uncited_days: str = "", max_age_days: str = "") -> HTMLResponse:
    given = {"window_days": window_days, "uncited_days": uncited_days,
             "max_age_days": max_age_days}
    asked = {name: _days(given[name][:16], most) for name, (most, _) in FIELDS.items()}
    invalid = [name for name in FIELDS if given[name].strip() and asked[name] is None]
    report = services.gaps.report(user, GapQuery(**asked))
    defaults: GapSettings = services.settings.gaps
    return render(request, "gaps/page.html", user=user, report=report, fields=FIELDS,
                  values={"window_days": report.window_days,
                          "uncited_days": report.uncited_days,
                          "max_age_days": report.max_age_days},
                  defaults=defaults, invalid=invalid, trends=TREND_LABELS)
