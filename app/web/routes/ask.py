"""The agent's ask page: pick collections, ask, read the answer with its evidence.

The page streams through ``ask.js`` (``POST /v1/chat`` with the session's CSRF token); without
the script the form posts here and the answer is rendered when it is done. Either way the
answer is drawn by one template (``ask/answer.html``), also served as a fragment for the
script, and each ``[n]`` chip links to its source (document, heading, page, the quoted
sentence highlighted in its chunk).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.answering.records import AnswerDetail
from app.api.deps import ServicesDep
from app.core.errors import NotFound
from app.core.principal import Principal
from app.web.rendering import render
from app.web.routes.answer_feedback import feedback_context
from app.web.routes.pulse import pulse_context
from app.web.session import FormUser, PageUser, with_role
from app.wiring import Services

router = APIRouter(include_in_schema=False)


def _agent(user: Principal) -> Principal:
    return with_role(user, "agent")


def _answer(services: Services, user: Principal, answer_id: str) -> AnswerDetail:
    return services.answers.get(answer_id, readable=services.access.readable(user),
                                viewer=_agent(user), audit=False)


@router.get("/ask", response_class=HTMLResponse)
def ask_page(request: Request, services: ServicesDep, user: PageUser,
             c: str | None = None, q: str = "") -> HTMLResponse:
    """A new conversation, or ``?c=`` one of yours continued (its answers oldest first);
    ``?q=`` fills the question in (a notification's "ask again")."""
    readable = services.access.readable(_agent(user))
    conversation = services.conversations.get(user, c, readable=readable) if c else None
    return render(request, "ask/page.html", user=user, collections=sorted(readable),
                  conversation=conversation, conversations=services.conversations.mine(user),
                  scripts=["/static/ask.js"], prefill=q[:20_000],
                  back=f"/ask?c={c}" if conversation else "",
                  **feedback_context(services, user, conversation.thread if conversation
                                     else []),
                  **pulse_context(request, services, user))


@router.post("/ask")
async def ask(services: ServicesDep, user: FormUser,
              question: Annotated[str, Form(max_length=20_000)],
              collections: Annotated[list[str] | None, Form()] = None,
              conversation_id: Annotated[str, Form(max_length=32)] = "") -> RedirectResponse:
    """The script-less path: answer in full, then show the conversation."""
    readable = services.access.readable(_agent(user))
    services.limits.hit("chat", user.credential_id or user.actor)
    if conversation_id:
        services.conversations.touch(user, conversation_id)
    else:
        conversation_id = services.conversations.start(user, question).conversation_id
    await run_in_threadpool(services.answers.answer, question, collections or [],
                            allowed=readable, asker=user, conversation_id=conversation_id)
    return RedirectResponse(f"/ask?c={conversation_id}", status_code=303)


@router.post("/ask/conversations/{conversation_id}/delete")
def delete_conversation(conversation_id: str, services: ServicesDep,
                        user: FormUser) -> RedirectResponse:
    services.conversations.delete(_agent(user), conversation_id)
    return RedirectResponse("/ask", status_code=303)


@router.get("/ask/answers/{answer_id}", response_class=HTMLResponse)
def answer_page(answer_id: str, request: Request, services: ServicesDep,
                user: PageUser) -> HTMLResponse:
    answer = _answer(services, user, answer_id)
    return render(request, "ask/answer_page.html", user=user, answer=answer,
                  scripts=["/static/ask.js"], **feedback_context(services, user, [answer]))


@router.get("/ask/answers/{answer_id}/fragment", response_class=HTMLResponse)
def answer_fragment(answer_id: str, request: Request, services: ServicesDep,
                    user: PageUser, c: str | None = None) -> HTMLResponse:
    """The answer alone, for the script; ``?c=``: the conversation it was asked in, where
    its feedback forms bring the reader back."""
    answer = _answer(services, user, answer_id)
    return render(request, "ask/answer.html", user=user, answer=answer,
                  back=f"/ask?c={c}" if c else "",
                  **feedback_context(services, user, [answer]))


def _source(services: Services, user: Principal, answer_id: str, n: int) -> dict[str, Any]:
    answer = _answer(services, user, answer_id)
    citation = next((c for c in answer.citations if c.n == n), None)
    if citation is None:
        raise NotFound("citation not found", code="citation_not_found")
    text = services.search.chunk_text(citation.chunk_id,
                                      allowed=services.access.readable(user))
    start, end = quote_span(text, citation.quote)
    return {"answer": answer, "citation": citation, "before": text[:start],
            "quote": text[start:end], "after": text[end:]}


def quote_span(text: str, quote: str) -> tuple[int, int]:
    """Where the quoted sentence stands in its chunk, whatever the line breaks between its
    words (a quote is one line; the chunk keeps the document's layout); (0, 0) if absent."""
    words = quote.split()
    if not words:
        return 0, 0
    found = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (found.start(), found.end()) if found else (0, 0)


@router.get("/ask/answers/{answer_id}/sources/{n}", response_class=HTMLResponse)
def source_page(answer_id: str, n: int, request: Request, services: ServicesDep,
                user: PageUser) -> HTMLResponse:
    return render(request, "ask/source_page.html", user=user,
                  **_source(services, user, answer_id, n))


@router.get("/ask/answers/{answer_id}/sources/{n}/fragment", response_class=HTMLResponse)
def source_fragment(answer_id: str, n: int, request: Request, services: ServicesDep,
                    user: PageUser) -> HTMLResponse:
    return render(request, "ask/source.html", user=user,
                  **_source(services, user, answer_id, n))


@router.get("/ask/documents/{collection}/{document:path}")
def original(collection: str, document: str, services: ServicesDep,
             user: PageUser) -> FileResponse:
    """The cited document itself (a PDF opens at the cited page through ``#page=``)."""
    found = services.originals.locate(collection, document,
                                      allowed=services.access.readable(_agent(user)))
    return FileResponse(
        found.path, media_type=found.media_type, filename=found.filename,
        content_disposition_type="inline" if found.inline else "attachment",
        # a document is untrusted: shown in a sandbox, it can run nothing and reach nothing
        headers={"Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self'"})
