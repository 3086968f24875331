"""Reviewers' side: the queue, claims, edits, decisions with ratings, statistics, and test
cases made from reviewed drafts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from app.api.deps import CurrentUser, Readable, ServicesDep, require
from app.api.schemas.errors import JSON_BODY, PARAMETERS, WITH_ROLE, errors
from app.api.schemas.review import (
    ApproveRequest,
    CandidateRequest,
    ChangesRequest,
    EditRequest,
    RejectRequest,
)
from app.api.schemas.rules import Id, IsoTime
from app.audit.log import to_jsonl
from app.core.errors import Forbidden
from app.core.principal import Principal
from app.review.records import (
    Draft,
    EvalCandidate,
    QueueFilter,
    Rating,
    ReviewQueuePage,
    StatsReport,
)
from app.review.vocabulary import Grouping, State

router = APIRouter(prefix="/v1/review", tags=["review"], responses=WITH_ROLE)
DECIDING = JSON_BODY | errors(404, 409)  # a draft not yours to see, or not in that state
Reviewer = Annotated[Principal, Depends(require("reviewer"))]
MAX_AGE_MINUTES = 10 * 366 * 24 * 60  # ten years: "now minus this" is still a date


@router.get("/drafts", responses=PARAMETERS)
def queue(
    services: ServicesDep, reviewer: Reviewer, readable: Readable,
    state: Annotated[State | None, Query()] = None,
    collection: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    min_age_minutes: Annotated[float | None, Query(ge=0, le=MAX_AGE_MINUTES)] = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[Literal["oldest", "newest"], Query()] = "oldest",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReviewQueuePage:
    """Drafts you may review, oldest first, with counts per state and the age of the oldest
    pending draft (the queue's SLA)."""
    where = QueueFilter(state=state, collection=collection, team=team, assignee=assignee,
                        min_age_s=None if min_age_minutes is None else min_age_minutes * 60,
                        newest_first=sort == "newest", limit=limit)
    return services.review.queue(reviewer, readable=readable, where=where)


@router.get("/drafts/{draft_id}", responses=errors(404, 422))
def draft(draft_id: Id, services: ServicesDep, reviewer: Reviewer,
          readable: Readable) -> Draft:
    """The draft with its evidence (citations, support flags, retrieval), history and
    webhook deliveries."""
    return services.review.get(draft_id, reviewer, readable=readable)


@router.post("/drafts/{draft_id}/claim", responses=errors(404, 409, 422))
def claim(draft_id: Id, services: ServicesDep, reviewer: Reviewer,
          readable: Readable) -> Draft:
    """Take a pending draft, or one whose claim lapsed; re-claiming your own renews it."""
    return services.review.claim(draft_id, reviewer, readable=readable)


@router.post("/drafts/{draft_id}/release", responses=errors(404, 409, 422))
def release(draft_id: Id, services: ServicesDep, reviewer: Reviewer,
            readable: Readable) -> Draft:
    return services.review.release(draft_id, reviewer, readable=readable)


@router.patch("/drafts/{draft_id}", responses=DECIDING)
def edit(draft_id: Id, body: EditRequest, services: ServicesDep, reviewer: Reviewer,
         readable: Readable) -> Draft:
    return services.review.edit(draft_id, reviewer, body.text, readable=readable)


@router.post("/drafts/{draft_id}/approve", responses=DECIDING)
def approve(draft_id: Id, body: ApproveRequest, services: ServicesDep, reviewer: Reviewer,
            readable: Readable) -> Draft:
    rating = Rating(scores=dict(body.scores.items()), comment=body.comment)
    return services.review.approve(draft_id, reviewer, rating, readable=readable,
                                   text=body.text)


@router.post("/drafts/{draft_id}/reject", responses=DECIDING)
def reject(draft_id: Id, body: RejectRequest, services: ServicesDep, reviewer: Reviewer,
           readable: Readable) -> Draft:
    rating = Rating(scores=dict(body.scores.items()), comment=body.comment, reason=body.reason)
    return services.review.reject(draft_id, reviewer, rating, readable=readable)


@router.post("/drafts/{draft_id}/request-changes", responses=DECIDING)
def request_changes(draft_id: Id, body: ChangesRequest, services: ServicesDep,
                    reviewer: Reviewer, readable: Readable) -> Draft:
    return services.review.request_changes(draft_id, reviewer, body.comment,
                                           readable=readable)


@router.post("/drafts/{draft_id}/eval-candidate", status_code=201,
             response_model_exclude_none=True, responses=DECIDING)
def eval_candidate(draft_id: Id, services: ServicesDep, reviewer: Reviewer,
                   readable: Readable, body: CandidateRequest | None = None) -> EvalCandidate:
    """Turn a reviewed draft into a test case (question-set format) for the evaluators:
    ``reference_answer`` only for an approved draft, ``must_not`` only for a rejected one."""
    return services.review.make_candidate(
        draft_id, reviewer, readable=readable,
        expected_documents=body.expected_documents if body else None)


@router.get("/eval-candidates", response_class=StreamingResponse)
def eval_candidates(services: ServicesDep, user: CurrentUser,
                    readable: Readable) -> StreamingResponse:
    """Every test case made from reviewed drafts, as JSON lines (one question a line)."""
    if not (user.has("reviewer") or user.has("evaluator")):
        raise Forbidden("this needs the reviewer or evaluator role", code="missing_role")
    rows = (c.model_dump(exclude_none=True) for c in services.review.candidates(
        readable=readable))
    return StreamingResponse(to_jsonl(rows), media_type="application/x-ndjson")


@router.get("/stats", responses=PARAMETERS)
def stats(
    services: ServicesDep, user: CurrentUser, readable: Readable,
    group_by: Annotated[Grouping, Query()] = "prompt",
    since: Annotated[IsoTime | None, Query(description="Only drafts created since (ISO "
                                           "time; UTC if it names no offset).")] = None,
) -> StatsReport:
    """Approval rate, approved-as-is rate, mean scores and edit distance, time to first review
    and to decision (p50/p90), grouped."""
    if not (user.has("reviewer") or user.has("evaluator")):
        raise Forbidden("this needs the reviewer or evaluator role", code="missing_role")
    return services.review_stats.stats(group_by, readable=readable, since=since)
