"""The knowledge pages: an owner's (or admin's) knowledge issues, one issue with its resolve
form, and everyone's own reports; plus the owner forms of the admin's collection page.

The same service calls as ``/v1/knowledge`` and ``/v1/admin/collections/{name}/owners``, so
the same rules: an issue not routed to the reader, or on a collection they may not read, is
a 404. A refused resolve form is shown again with the reason in words.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.api.deps import ServicesDep
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.knowledge_issues.records import REASON_MAX, STATES
from app.web.rendering import N_, render
from app.web.routes.answer_feedback import REASON_LABELS
from app.web.session import FormUser, PageUser, with_role
from app.wiring import Services

router = APIRouter(include_in_schema=False)

# the English words for the feature's vocabulary ids (translated in the templates)
LABELS: dict[str, str] = {code: label for code, label in REASON_LABELS.items()} | {
    "open": N_("Open"), "resolved": N_("Resolved"),
    "document_changed": N_("Document changed"), "works_as_intended": N_("Works as intended"),
    "thumbs_down": N_("Thumbs down"), "draft_rejected": N_("Rejected draft"),
    "refusal_disputed": N_("Disputed refusal"), "changed": N_("changed"),
    "removed": N_("removed"),
}


def _issue_page(request: Request, services: Services, user: Principal, issue_id: str, *,
                status_code: int = 200, error: str = "", reason: str = "") -> HTMLResponse:
    issue = services.issues.get(issue_id, user, readable=services.access.readable(user))
    return render(request, "knowledge/issue.html", user=user, issue=issue, error=error,
                  reason=reason, status_code=status_code, reason_max=REASON_MAX, labels=LABELS)


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge_page(request: Request, services: ServicesDep, user: PageUser,
                   state: str = "open") -> HTMLResponse:
    """The reader's issues (if they own anything) and their own reports."""
    readable = services.access.readable(user)
    state = state if state in STATES else "open"
    owner = bool(services.owners.collections_owned_by(user))
    issues = services.issues.listing(user, readable=readable, state=state) if owner else []
    return render(request, "knowledge/list.html", user=user, owner=owner, issues=issues,
                  state=state, states=STATES, labels=LABELS,
                  reports=services.issues.my_reports(user, readable=readable))


@router.get("/knowledge/issues/{issue_id}", response_class=HTMLResponse)
def issue_page(issue_id: str, request: Request, services: ServicesDep,
               user: PageUser) -> HTMLResponse:
    return _issue_page(request, services, user, issue_id)


@router.post("/knowledge/issues/{issue_id}/resolve", response_model=None)
def resolve(issue_id: str, request: Request, services: ServicesDep, user: FormUser,
            resolution: Annotated[str, Form(max_length=32)] = "",
            reason: Annotated[str, Form(max_length=REASON_MAX)] = "",
            ) -> HTMLResponse | RedirectResponse:
    try:
        services.issues.resolve(issue_id, user, resolution, reason,
                                readable=services.access.readable(user))
    except InvalidInput as exc:
        return _issue_page(request, services, user, issue_id, status_code=422,
                           error=exc.message, reason=reason)
    return RedirectResponse(f"/knowledge/issues/{issue_id}?resolved=1", status_code=303)


# -- the owners of a collection (its admin page) -----------------------------------------------
@router.post("/admin/collections/{name}/owners")
def add_owner(name: str, services: ServicesDep, user: FormUser,
              owner: Annotated[str, Form(max_length=80)] = "",
              folder: Annotated[str, Form(max_length=500)] = "") -> RedirectResponse:
    """``owner`` is ``user:NAME`` or ``team:NAME``, as the page's picker offers them."""
    admin = with_role(user, "admin")
    kind, _, who = owner.partition(":")
    services.owners.add(name, admin, user=who if kind == "user" else None,
                        team=who if kind == "team" else None, folder=folder)
    return RedirectResponse(f"/admin/collections/{name}?owners=1#owners", status_code=303)


@router.post("/admin/collections/{name}/owners/{owner_id}/remove")
def remove_owner(name: str, owner_id: int, services: ServicesDep,
                 user: FormUser) -> RedirectResponse:
    services.owners.remove(name, with_role(user, "admin"), owner_id)
    return RedirectResponse(f"/admin/collections/{name}?owners=1#owners", status_code=303)
