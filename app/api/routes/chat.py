"""``POST /v1/chat`` (JSON or server-sent events) and ``GET /v1/answers/{id}``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import Asker, CurrentUser, Readable, ServicesDep
from app.api.schemas.chat import ChatRequest
from app.core.errors import VraagbaakError

router = APIRouter(prefix="/v1", tags=["chat"])


@router.post("/chat", response_model=None)
async def chat(body: ChatRequest, services: ServicesDep, asker: Asker,
               readable: Readable) -> dict[str, Any] | EventSourceResponse:
    answers = services.answers
    prepared = await run_in_threadpool(
        answers.prepare, body.question, body.collections, allowed=readable, asker=asker,
        prompt=body.prompt)
    stream = answers.start(prepared)  # Busy -> 503 before any byte is sent
    if not body.stream:
        text = "".join([tok async for tok in stream]) if stream is not None else ""
        return await run_in_threadpool(answers.finish, prepared, text, stream)

    async def events() -> AsyncIterator[dict[str, str]]:
        parts: list[str] = []
        try:
            if stream is not None:
                async for token in stream:
                    parts.append(token)
                    yield {"event": "token", "data": json.dumps({"text": token})}
            final = await run_in_threadpool(answers.finish, prepared, "".join(parts), stream)
            yield {"event": "answer", "data": json.dumps(final)}
        except VraagbaakError as exc:
            yield {"event": "error",
                   "data": json.dumps({"error": {"code": exc.code, "message": exc.message}})}

    return EventSourceResponse(events())


@router.get("/answers/{answer_id}")
def get_answer(answer_id: str, services: ServicesDep, user: CurrentUser,
               readable: Readable) -> dict[str, Any]:
    return services.answers.get(answer_id, readable=readable, viewer=user)
