"""``/v1/knowledge``: knowledge issues for their owners (and admins), and your own reports.

An issue you may not see (not routed to you, or drawing on a collection you may not read) is
the 404 of an unknown id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, Readable, ServicesDep
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, errors
from app.api.schemas.knowledge import IssueList, ReportList, ResolveRequest
from app.api.schemas.rules import Id
from app.knowledge_issues.records import Issue, State

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"], responses=SIGNED_IN)


@router.get("/issues", responses=errors(422))
def issues(services: ServicesDep, user: CurrentUser, readable: Readable,
           state: Annotated[State, Query(description="open or resolved.")] = "open"
           ) -> IssueList:
    """The issues routed to you, most recently reported first (at most 200)."""
    return IssueList(issues=services.issues.listing(user, readable=readable, state=state))


@router.get("/issues/{issue_id}", responses=errors(404, 422))
def issue(issue_id: Id, services: ServicesDep, user: CurrentUser, readable: Readable) -> Issue:
    """One issue: question, answer, cited documents, reports and linked re-indexes."""
    return services.issues.get(issue_id, user, readable=readable)


@router.post("/issues/{issue_id}/resolve", responses=JSON_BODY | errors(404, 409))
def resolve(issue_id: Id, body: ResolveRequest, services: ServicesDep, user: CurrentUser,
            readable: Readable) -> Issue:
    """Resolve an open issue (409 ``already_resolved`` if it is not); its reporters are
    notified."""
    return services.issues.resolve(issue_id, user, body.resolution, body.reason,
                                   readable=readable)


@router.get("/reports")
def reports(services: ServicesDep, user: CurrentUser, readable: Readable) -> ReportList:
    """Your reports that became knowledge issues, and where each stands."""
    return ReportList(reports=services.issues.my_reports(user, readable=readable))
