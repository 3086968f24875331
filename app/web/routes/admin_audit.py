"""The admin's audit pages: the trail with filters, newest first and paged, its exports, and
the chain verified in words.

Same service calls and audit entries as the JSON routes; see ``app.web.routes.admin``.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import ServicesDep
from app.audit.log import AuditFilter
from app.audit.records import AuditVerification
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.web.rendering import render
from app.web.routes.admin import (
    MAX_PAGE,
    PAGE_SIZE,
    admin_only,
)
from app.web.session import PageUser
from app.wiring import Services

router = APIRouter(include_in_schema=False)


# -- audit trail -------------------------------------------------------------------------------

def _time(value: str, field: str) -> datetime | None:
    """A time from the filter form (``datetime-local``, read as UTC); None when empty."""
    if not value.strip():
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"'{field}' is not a time (use YYYY-MM-DD HH:MM)",
                           code="invalid_time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _newest_first(services: Services, where: AuditFilter, page: int) -> tuple[list[Any], int]:
    """One page of entries, newest first, and how many match (the service reads oldest
    first: keep only the tail this page needs)."""
    tail: deque[dict[str, Any]] = deque(maxlen=page * PAGE_SIZE)
    total = 0
    for row in services.audit.entries(where):
        tail.append(row)
        total += 1
    newest = list(reversed(tail))[(page - 1) * PAGE_SIZE:]
    for row in newest:
        row["details_text"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
    return newest, total


def _audit_page(request: Request, services: Services, admin: Principal, actor: str,
                action: str, since: str, until: str, page: int,
                verification: AuditVerification | None = None) -> HTMLResponse:
    filters = {"actor": actor.strip(), "action": action.strip(), "since": since.strip(),
               "until": until.strip()}
    page = min(max(page, 1), MAX_PAGE)
    try:
        start, end = _time(since, "since"), _time(until, "until")
    except InvalidInput as exc:
        return render(request, "admin/audit.html", user=admin, status_code=exc.status,
                      error=exc.message, filters=filters, rows=[], total=0, page=1, pages=1,
                      verification=verification, links={})
    where = AuditFilter(actor=filters["actor"] or None, action=filters["action"] or None,
                        since=start, until=end)
    rows, total = _newest_first(services, where, page)
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    api = {k: v for k, v in (("actor", where.actor), ("action", where.action),
                             ("since", start.isoformat() if start else None),
                             ("until", end.isoformat() if end else None)) if v}
    links = {
        "csv": "/v1/admin/audit?" + urlencode({**api, "format": "csv"}),
        "jsonl": "/v1/admin/audit?" + urlencode({**api, "format": "jsonl"}),
        "previous": "/admin/audit?" + urlencode({**kept, "page": page - 1}) if page > 1 else "",
        "next": "/admin/audit?" + urlencode({**kept, "page": page + 1})
        if page < min(pages, MAX_PAGE) else "",
        "verify": "/admin/audit/verify?" + urlencode(kept),
    }
    return render(request, "admin/audit.html", user=admin, filters=filters, rows=rows,
                  total=total, page=page, pages=pages, links=links,
                  verification=verification, error="")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, services: ServicesDep, user: PageUser, actor: str = "",
               action: str = "", since: str = "", until: str = "",
               page: int = 1) -> HTMLResponse:
    return _audit_page(request, services, admin_only(user), actor[:128], action[:64], since[:40],
                       until[:40], page)


@router.get("/admin/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, services: ServicesDep, user: PageUser, actor: str = "",
                 action: str = "", since: str = "", until: str = "") -> HTMLResponse:
    """Recompute the hash chain (as ``GET /v1/admin/audit/verify``) and say what it found."""
    admin = admin_only(user)
    return _audit_page(request, services, admin, actor[:128], action[:64], since[:40],
                       until[:40], 1, verification=services.audit.verify())
