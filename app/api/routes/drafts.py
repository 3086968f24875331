"""Agents' side of the review queue: ask for a customer reply, see the decision, resubmit.
Every response is the agent's view of a draft (``AuthorDraft``): approved text only once a
reviewer approved it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import Agent, Asker, Readable, ServicesDep
from app.api.schemas.drafts import DraftFromAnswer, DraftList, DraftRequest, Resubmit
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.rules import Id
from app.review.records import AuthorDraft

router = APIRouter(prefix="/v1", tags=["drafts"], responses=WITH_ROLE)


@router.post("/drafts", status_code=201, responses=JSON_BODY | errors(404, 429, 503))
async def create_draft(body: DraftRequest, services: ServicesDep, asker: Asker,
                       readable: Readable) -> AuthorDraft:
    """Write a reply to a ticket; it goes to the review queue and is not approved text until a
    reviewer approves it."""
    return await run_in_threadpool(
        services.drafts.create, asker, body.question, body.collections, allowed=readable,
        customer=body.customer, tone=body.tone)


@router.post("/answers/{answer_id}/draft", status_code=201, responses=JSON_BODY | errors(404))
def draft_from_answer(answer_id: Id, body: DraftFromAnswer, services: ServicesDep,
                      agent: Agent, readable: Readable) -> AuthorDraft:
    """Queue one of your chat answers as a customer reply draft."""
    return services.drafts.from_answer(agent, answer_id, readable=readable,
                                       customer=body.customer, tone=body.tone)


@router.get("/drafts")
def my_drafts(services: ServicesDep, agent: Agent, readable: Readable) -> DraftList:
    """Your latest drafts, newest first."""
    return DraftList(drafts=services.drafts.mine(agent, readable=readable))


@router.get("/drafts/{draft_id}", responses=errors(404, 422))
def get_draft(draft_id: Id, services: ServicesDep, agent: Agent,
              readable: Readable) -> AuthorDraft:
    """The decision and, once approved, the approved text, with the reviewer's comment."""
    return services.drafts.view(draft_id, agent, readable=readable)


@router.post("/drafts/{draft_id}/resubmit", responses=JSON_BODY | errors(404, 409))
def resubmit(draft_id: Id, body: Resubmit, services: ServicesDep, agent: Agent,
             readable: Readable) -> AuthorDraft:
    """Send a draft whose changes were requested back to the queue, optionally revised."""
    return services.drafts.resubmit(agent, draft_id, readable=readable, text=body.text,
                                    note=body.note)
