"""``POST /v1/chat/completions``: the OpenAI chat API, so existing chat clients work.

The last user message is the question; the earlier user and assistant messages are the
conversation it follows (a short follow-up is searched with the question before it).
Citations, sentence support flags and the answer id
ride along in extra fields (``citations``, ``vraagbaak``) that OpenAI clients ignore. Answers
come from the one ``AnswerService.stream``; this module only frames them the OpenAI way.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from app.answering.service import Turn
from app.answering.streaming import AnswerStream, TokenEvent
from app.api.deps import Asker, Readable, ServicesDep
from app.api.errors import error_body
from app.api.schemas.errors import JSON_BODY, WITH_ROLE, errors
from app.api.schemas.openai import (
    COMPLETION_RESPONSES,
    ChatCompletion,
    OpenAIChatRequest,
    OpenAIMessage,
    VraagbaakFields,
)
from app.core.errors import InvalidInput, VraagbaakError

router = APIRouter(prefix="/v1", tags=["openai"])


@router.post("/chat/completions", response_model=None,
             responses=COMPLETION_RESPONSES | WITH_ROLE | JSON_BODY | errors(404, 429, 503))
async def completions(body: OpenAIChatRequest, services: ServicesDep, asker: Asker,
                      readable: Readable) -> ChatCompletion | EventSourceResponse:
    questions = [m.text() for m in body.messages if m.role == "user"]
    if not questions:
        raise InvalidInput("messages must contain a user message", code="no_user_message")
    answering = await run_in_threadpool(  # Busy -> 503 here, before any byte is sent
        services.answers.stream, questions[-1], body.collections, allowed=readable,
        asker=asker, channel="openai", max_tokens=body.max_tokens,
        history=client_history(body.messages))
    created, model = int(time.time()), services.answers.model_id
    if not body.stream:
        return ChatCompletion.of(await answering.aresult(), created=created, model=model)
    return EventSourceResponse(_chunks(answering, created, model))


def client_history(messages: list[OpenAIMessage]) -> list[Turn]:
    """The client's earlier turns: each user message before the last, with the assistant
    message that followed it (an unanswered one counts with an empty answer)."""
    turns: list[Turn] = []
    last_user = max(i for i, m in enumerate(messages) if m.role == "user")
    for i, m in enumerate(messages[:last_user]):
        if m.role == "user":
            reply = messages[i + 1].text() if messages[i + 1].role == "assistant" else ""
            turns.append(Turn(m.text(), reply))
    return turns


async def _chunks(answering: AnswerStream, created: int,
                  model: str) -> AsyncIterator[dict[str, str]]:
    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        return json.dumps({"id": "chatcmpl-stream", "object": "chat.completion.chunk",
                           "created": created, "model": model,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                           **extra})

    try:
        yield {"data": chunk({"role": "assistant", "content": ""})}
        async for event in answering:
            if isinstance(event, TokenEvent):
                yield {"data": chunk({"content": event.text})}
                continue
            if answering.refused:  # no tokens came: the refusal is the whole content
                yield {"data": chunk({"content": event.answer})}
            yield {"data": chunk({}, "stop",
                                 citations=[c.model_dump() for c in event.citations],
                                 vraagbaak=VraagbaakFields.of(event).model_dump())}
    except VraagbaakError as exc:
        yield {"data": json.dumps(error_body(exc.code, exc.message))}
    yield {"data": "[DONE]"}
