"""The reviewer's pages: the queue and one draft (its editor beside its evidence, the rubric,
the decision).

Every action is a plain form post answered with a 303 back to a page, so the pages work
without script and the browser's back button never re-posts. The rules live in the queue
service (``app.review.queue``); these routes make the same calls as the JSON API
(``app.api.routes.review``). A failed action is shown on the draft page itself, with what the
reviewer typed kept: a lost race (``Conflict``) is explained from the draft as it is now (who
holds or decided it, and when), a refused value (``InvalidInput``) says what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from babel.dates import format_timedelta
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep
from app.core.errors import Conflict, InvalidInput
from app.core.principal import Principal
from app.review.records import Draft, QueueFilter, Rating
from app.review.vocabulary import REASONS, RUBRIC, SCORE_MAX, SCORE_MIN, STATES
from app.web.i18n import when
from app.web.rendering import N_, locale_of, render
from app.web.session import FormUser, PageUser, safe_next, with_role
from app.wiring import Services

router = APIRouter(include_in_schema=False)

CRITERIA = {"accuracy": N_("Accuracy"), "completeness": N_("Completeness"),
            "tone": N_("Tone"), "citations": N_("Citations")}
assert tuple(CRITERIA) == RUBRIC, "a rubric criterion without its label"
SCORES = tuple(range(SCORE_MIN, SCORE_MAX + 1))
# the access keys of the draft page's buttons, one letter each, listed in the page's help line:
# ``static/review.js`` makes Alt+key (Option+key on a Mac) press them in every browser
KEYS = {"claim": "c", "release": "l", "save": "s", "approve": "a", "reject": "r",
        "request_changes": "h"}
# the history's words for each event (states reuse the states' own message ids)
ACTIONS = {"create": N_("sent to review"), "claim": N_("claimed"), "release": N_("released"),
           "edit": N_("text edited"), "approve": "approved", "reject": "rejected",
           "request_changes": "changes_requested", "resubmit": N_("sent to review again")}
# what the draft page says when the queue refuses a value (by the error's code)
PROBLEMS = {
    "empty_text": N_("The reply text is empty: write the reply first."),
    "invalid_scores": N_("Rate every criterion from 1 to 5 before deciding."),
    "invalid_reason": N_("A rejection needs a reason: choose one from the list."),
    "comment_required": N_("Say in the comment what the author should change."),
}
Act = Literal["claim", "release", "save", "approve", "reject", "request_changes"]


def _reviewer(user: Principal) -> Principal:
    return with_role(user, "reviewer")


def _duration(locale: str) -> Callable[[float | None], str]:
    def ago(seconds: float | None) -> str:
        if seconds is None:
            return "–"
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=locale)
    return ago


# -- the queue ---------------------------------------------------------------------------
@router.get("/review", response_class=HTMLResponse)
def queue_page(
    request: Request, services: ServicesDep, user: PageUser,
    state: Annotated[str, Query(max_length=32)] = "",
    collection: Annotated[str, Query(max_length=64)] = "",
    team: Annotated[str, Query(max_length=64)] = "",
    min_age_minutes: Annotated[str, Query(max_length=16)] = "",
    assignee: Annotated[str, Query(max_length=64)] = "",
    sort: Annotated[Literal["oldest", "newest"], Query()] = "oldest",
) -> HTMLResponse:
    readable = services.access.readable(_reviewer(user))
    minutes = _minutes(min_age_minutes)
    where = QueueFilter(state=state if state in STATES else None,
                        collection=collection or None, team=team.strip() or None,
                        assignee=assignee.strip() or None,
                        min_age_s=None if minutes is None else minutes * 60,
                        newest_first=sort == "newest")
    page = services.review.queue(user, readable=readable, where=where)
    filters = {"state": where.state or "", "collection": collection, "team": team.strip(),
               "min_age_minutes": "" if minutes is None else min_age_minutes.strip(),
               "assignee": assignee.strip(), "sort": sort}
    return render(request, "review/queue.html", user=user, page=page, filters=filters,
                  states=STATES, collections=sorted(readable), ago=_duration(locale_of(request)),
                  here=str(request.url.path) + (f"?{request.url.query}" if request.url.query
                                                else ""))


def _minutes(value: str) -> float | None:
    """The age filter as typed: a number of minutes, anything else no filter."""
    try:
        minutes = float(value.strip().replace(",", "."))
    except ValueError:
        return None
    return minutes if 0 <= minutes < 10**7 else None


# -- one draft ---------------------------------------------------------------------------
def _draft(services: Services, user: Principal, draft_id: str) -> Draft:
    return services.review.get(draft_id, _reviewer(user),
                               readable=services.access.readable(user))


def _draft_page(request: Request, services: Services, user: Principal, draft_id: str, *,
                status_code: int = 200, problem: str = "", lost: dict[str, str] | None = None,
                typed: Mapping[str, str] | None = None, draft: Draft | None = None
                ) -> HTMLResponse:
    draft = draft or _draft(services, user, draft_id)
    # ``assignee`` names only the holder of a live claim; an admin may act on any draft
    holds = draft.state == "in_review" and (user.is_admin or draft.assignee == user.username)
    claimable = draft.state == "pending" or (draft.state == "in_review" and (
        draft.assignee is None or draft.assignee == user.username))
    own = draft.author == user.username and not user.is_admin
    typed = dict(typed or {})
    return render(request, "review/draft.html", user=user, status_code=status_code,
                  draft=draft, holds=holds, claimable=claimable and not own, own=own,
                  problem=problem, lost=lost, typed=typed,
                  text=typed.get("text", draft.text), criteria=CRITERIA, scores=SCORES,
                  reasons=REASONS, keys=KEYS, actions=ACTIONS, ago=_duration(locale_of(request)))


@router.get("/review/drafts/{draft_id}", response_class=HTMLResponse)
def draft_page(draft_id: str, request: Request, services: ServicesDep,
               user: PageUser) -> HTMLResponse:
    return _draft_page(request, services, user, draft_id)


def lost_race(draft: Draft, me: Principal, locale: str) -> dict[str, str]:
    """Who won and when, from the draft as it is after the conflict: the words of the draft
    page's message (``kind`` picks the sentence, the rest fills it in)."""
    events = [e for e in draft.events if e.to_state == draft.state]
    last = events[-1] if events else None
    who = last.actor if last else "?"
    at = when(last.at, locale) if last else "?"
    if draft.state in ("approved", "rejected"):
        decided_at = draft.decision.decided_at if draft.decision else None
        return {"kind": draft.state, "who": draft.decided_by or who,
                "when": when(decided_at, locale) if decided_at else at}
    if draft.state == "changes_requested":
        return {"kind": "changes_requested", "who": who, "when": at}
    if draft.state == "in_review" and draft.assignee and draft.assignee != me.username:
        return {"kind": "held", "who": draft.assignee, "when": at,
                "until": when(draft.claim_expires_at, locale)}
    if draft.state == "in_review":
        return {"kind": "lapsed", "who": who, "when": at}
    return {"kind": "pending", "who": who, "when": at}


async def _act(request: Request, services: Services, user: Principal, draft_id: str,
               act: Act, call: Callable[[], Any], typed: Mapping[str, str],
               success: str | None = None) -> Response:
    """Run one transition; 303 to ``success`` (the draft page), or the draft page again with
    why it did not happen."""
    _reviewer(user)
    try:
        await run_in_threadpool(call)
    except Conflict:
        draft = await run_in_threadpool(_draft, services, user, draft_id)
        return await run_in_threadpool(
            lambda: _draft_page(request, services, user, draft_id, status_code=409,
                                lost=lost_race(draft, user, locale_of(request)) | {"act": act},
                                typed=typed, draft=draft))
    except InvalidInput as refused:
        problem = PROBLEMS.get(refused.code, N_("That value is not allowed."))
        return await run_in_threadpool(
            lambda: _draft_page(request, services, user, draft_id, status_code=422,
                                problem=problem, typed=typed))
    return RedirectResponse(safe_next(success) if success else f"/review/drafts/{draft_id}",
                            status_code=303)


def _rating(typed: Mapping[str, str], reason: str | None = None) -> Rating:
    scores: dict[str, int] = {c: int(v) for c in RUBRIC
                              if (v := typed.get(f"score_{c}", "")).isdigit()}
    return Rating(scores=scores, comment=typed.get("comment", "").strip(), reason=reason)


async def _typed(request: Request) -> dict[str, str]:
    """The draft form as posted (text fields only), to act on and to show again."""
    form = await request.form()
    keep = {"text", "comment", "reason", *(f"score_{c}" for c in RUBRIC)}
    return {k: v for k, v in form.items() if k in keep and isinstance(v, str)}


@router.post("/review/drafts/{draft_id}/claim")
async def claim(draft_id: str, request: Request, services: ServicesDep,
                user: FormUser) -> Response:
    readable = services.access.readable(user)
    return await _act(request, services, user, draft_id, "claim",
                      lambda: services.review.claim(draft_id, user, readable=readable), {})


@router.post("/review/drafts/{draft_id}/release")
async def release(draft_id: str, request: Request, services: ServicesDep, user: FormUser,
                  next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    readable = services.access.readable(user)
    return await _act(request, services, user, draft_id, "release",
                      lambda: services.review.release(draft_id, user, readable=readable), {},
                      success=next or None)


@router.post("/review/drafts/{draft_id}/save")
async def save(draft_id: str, request: Request, services: ServicesDep,
               user: FormUser) -> Response:
    readable = services.access.readable(user)
    typed = await _typed(request)
    return await _act(request, services, user, draft_id, "save",
                      lambda: services.review.edit(draft_id, user, typed.get("text", ""),
                                                   readable=readable), typed)


@router.post("/review/drafts/{draft_id}/approve")
async def approve(draft_id: str, request: Request, services: ServicesDep,
                  user: FormUser) -> Response:
    readable = services.access.readable(user)
    typed = await _typed(request)
    return await _act(request, services, user, draft_id, "approve",
                      lambda: services.review.approve(draft_id, user, _rating(typed),
                                                      readable=readable,
                                                      text=typed.get("text")), typed)


@router.post("/review/drafts/{draft_id}/reject")
async def reject(draft_id: str, request: Request, services: ServicesDep,
                 user: FormUser) -> Response:
    readable = services.access.readable(user)
    typed = await _typed(request)
    rating = _rating(typed, reason=typed.get("reason") or None)
    return await _act(request, services, user, draft_id, "reject",
                      lambda: services.review.reject(draft_id, user, rating,
                                                     readable=readable), typed)


@router.post("/review/drafts/{draft_id}/request-changes")
async def request_changes(draft_id: str, request: Request, services: ServicesDep,
                          user: FormUser) -> Response:
    readable = services.access.readable(user)
    typed = await _typed(request)
    return await _act(request, services, user, draft_id, "request_changes",
                      lambda: services.review.request_changes(
                          draft_id, user, typed.get("comment", ""), readable=readable), typed)
