"""The agent's customer-reply drafts: make one from an answer, follow its review, copy the
approved text. The reviewer's comment and the approved text come from the same agent view
(``AuthorDraft``) the API returns, so the page can never show unapproved text as approved."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.principal import Principal
from app.review.records import Customer
from app.review.vocabulary import Tone
from app.web.rendering import render
from app.web.session import FormUser, PageUser, with_role

router = APIRouter(include_in_schema=False)
TONES = get_args(Tone)
PAGE_SIZE = 100  # the latest drafts; older ones stay reachable through the API


def _agent(user: Principal) -> Principal:
    return with_role(user, "agent")


@router.get("/ask/answers/{answer_id}/draft", response_class=HTMLResponse)
def draft_form(answer_id: str, request: Request, services: ServicesDep,
               user: PageUser) -> HTMLResponse:
    answer = services.answers.get(answer_id, readable=services.access.readable(_agent(user)),
                                  viewer=user, audit=False)
    return render(request, "drafts/new.html", user=user, answer=answer, tones=TONES)


@router.post("/ask/answers/{answer_id}/draft")
async def make_draft(answer_id: str, services: ServicesDep, user: FormUser,
                     name: Annotated[str, Form(max_length=200)] = "",
                     language: Annotated[str, Form(max_length=40)] = "en",
                     ticket_id: Annotated[str, Form(max_length=100)] = "",
                     tone: Annotated[Tone, Form()] = "friendly") -> RedirectResponse:
    draft = await run_in_threadpool(
        services.drafts.from_answer, _agent(user), answer_id,
        readable=services.access.readable(user),
        customer=Customer(name=name, language=language, ticket_id=ticket_id), tone=tone)
    return RedirectResponse(f"/drafts/{draft.draft_id}", status_code=303)


@router.get("/drafts", response_class=HTMLResponse)
def my_drafts(request: Request, services: ServicesDep, user: PageUser) -> HTMLResponse:
    drafts = services.drafts.mine(_agent(user), readable=services.access.readable(user),
                                  limit=PAGE_SIZE)
    return render(request, "drafts/list.html", user=user, drafts=drafts)


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(draft_id: str, request: Request, services: ServicesDep,
               user: PageUser) -> HTMLResponse:
    draft = services.drafts.view(draft_id, _agent(user), readable=services.access.readable(user))
    return render(request, "drafts/detail.html", user=user, draft=draft,
                  scripts=["/static/copy.js"])
