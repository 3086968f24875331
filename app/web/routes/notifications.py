"""The notification page: what was done about what the reader reported, with "ask again"
(the ask page with the question filled in) and "mark as read"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.deps import ServicesDep
from app.web.rendering import render
from app.web.routes.knowledge import LABELS
from app.web.session import FormUser, PageUser

router = APIRouter(include_in_schema=False)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(request: Request, services: ServicesDep,
                       user: PageUser) -> HTMLResponse:
    inbox = services.notifications.mine(user, readable=services.access.readable(user))
    return render(request, "notifications/list.html", user=user, inbox=inbox, labels=LABELS)


@router.post("/notifications/{notification_id}/read")
def mark_read(notification_id: str, services: ServicesDep,
              user: FormUser) -> RedirectResponse:
    services.notifications.mark_read(notification_id, user,
                                     readable=services.access.readable(user))
    return RedirectResponse("/notifications", status_code=303)
