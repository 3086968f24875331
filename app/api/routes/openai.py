"""``POST /v1/chat/completions``: the OpenAI chat API, so existing chat clients work.

The last user message is the question. Citations, sentence support flags and the answer id
ride along in extra fields (``citations``, ``vraagbaak``) that OpenAI clients ignore.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from app.api.deps import Asker, Readable, ServicesDep
from app.api.schemas.openai import OpenAIChatRequest
from app.core.errors import InvalidInput, VraagbaakError

router = APIRouter(prefix="/v1", tags=["openai"])


def _extras(final: dict[str, Any]) -> dict[str, Any]:
    return {
        "citations": final["citations"],
        "vraagbaak": {"answer_id": final["answer_id"], "sentences": final["sentences"],
                      "refused": final["refused"], "prompt": final["prompt"]},
    }


@router.post("/chat/completions", response_model=None)
async def completions(body: OpenAIChatRequest, services: ServicesDep, asker: Asker,
                      readable: Readable) -> dict[str, Any] | EventSourceResponse:
    questions = [m.text() for m in body.messages if m.role == "user"]
    if not questions:
        raise InvalidInput("messages must contain a user message", code="no_user_message")
    answers = services.answers
    prepared = await run_in_threadpool(
        answers.prepare, questions[-1], body.collections, allowed=readable, asker=asker)
    stream = answers.start(prepared, max_tokens=body.max_tokens)
    created = int(time.time())
    model = services.worker.llm.model_id

    if not body.stream:
        text = "".join([tok async for tok in stream]) if stream is not None else ""
        final = await run_in_threadpool(answers.finish, prepared, text, stream, channel="openai")
        return {
            "id": f"chatcmpl-{final['answer_id']}",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": final["answer"]}}],
            **_extras(final),
        }

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        return json.dumps({"id": "chatcmpl-stream", "object": "chat.completion.chunk",
                           "created": created, "model": model,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                           **extra})

    async def events() -> AsyncIterator[dict[str, str]]:
        parts: list[str] = []
        try:
            yield {"data": chunk({"role": "assistant", "content": ""})}
            if stream is not None:
                async for token in stream:
                    parts.append(token)
                    yield {"data": chunk({"content": token})}
            final = await run_in_threadpool(
                answers.finish, prepared, "".join(parts), stream, channel="openai")
            if stream is None:
                yield {"data": chunk({"content": final["answer"]})}
            yield {"data": chunk({}, "stop", **_extras(final))}
        except VraagbaakError as exc:
            yield {"data": json.dumps({"error": {"code": exc.code, "message": exc.message}})}
        yield {"data": "[DONE]"}

    return EventSourceResponse(events())
