"""``POST /v1/chat`` (JSON or server-sent events) and ``GET /v1/answers/{id}``.

Both shapes come from the one ``AnswerService.stream``; this module only frames its events.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from app.answering.records import Answer, AnswerDetail
from app.answering.streaming import AnswerStream, TokenEvent
from app.api.deps import Asker, CurrentUser, Readable, ServicesDep
from app.api.errors import error_body
from app.api.schemas.chat import CHAT_RESPONSES, ChatRequest
from app.api.schemas.errors import JSON_BODY, SIGNED_IN, WITH_ROLE, errors
from app.api.schemas.rules import Id
from app.core.errors import VraagbaakError

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=None,
             responses=CHAT_RESPONSES | WITH_ROLE | JSON_BODY | errors(404, 429, 503))
async def chat(body: ChatRequest, services: ServicesDep, asker: Asker,
               readable: Readable) -> Answer | EventSourceResponse:
    """Ask a question; the answer cites the documents it stands on."""
    if body.conversation_id is not None:  # someone else's thread: 404 before any work
        await run_in_threadpool(services.conversations.touch, asker, body.conversation_id)
    answering = await run_in_threadpool(  # Busy -> 503 here, before any byte is sent
        services.answers.stream, body.question, body.collections, allowed=readable,
        asker=asker, prompt=body.prompt, conversation_id=body.conversation_id)
    if not body.stream:
        return await answering.aresult()
    return EventSourceResponse(_events(answering))


async def _events(answering: AnswerStream) -> AsyncIterator[dict[str, str]]:
    try:
        async for event in answering:
            if isinstance(event, TokenEvent):
                yield {"event": "token", "data": json.dumps({"text": event.text})}
            else:
                yield {"event": "answer", "data": event.model_dump_json()}
    except VraagbaakError as exc:
        yield {"event": "error",
               "data": json.dumps(error_body(exc.code, exc.message))}


@router.get("/answers/{answer_id}", responses=SIGNED_IN | errors(404, 422))
def get_answer(answer_id: Id, services: ServicesDep, user: CurrentUser,
               readable: Readable) -> AnswerDetail:
    return services.answers.get(answer_id, readable=readable, viewer=user)
