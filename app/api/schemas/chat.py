"""Bodies and answers of ``POST /v1/chat``.

The answer itself is ``app.answering.records.Answer``; what lives here is the request and the
OpenAPI description of the two ways it comes back (one JSON object, or server-sent events).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.answering.records import Answer
from app.api.schemas.rules import NON_BLANK, RequestBody, schema_only
from app.core.settings import Settings

# the service checks the question (trimmed) with its own codes: empty_question, and
# question_too_long past the server's max_question_chars, whose default the schema names
QUESTION = schema_only(**NON_BLANK,
                       maxLength=Settings.model_fields["max_question_chars"].default)


class ChatRequest(RequestBody):
    question: str = Field(description="What the agent asks (at most the server's "
                          "max_question_chars).", json_schema_extra=QUESTION)
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    stream: bool = Field(False, description="Server-sent events: tokens, then the answer.")
    conversation_id: str | None = Field(
        None, max_length=32, description="File the answer in one of your conversations "
        "(POST /v1/conversations starts one); none: a standalone answer.")
    prompt: str = Field("answer", max_length=80, description="'answer' (the production "
                        "version) or a pilot version to try, e.g. 'answer@2'; recorded.")


CHAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": Answer,
        "description": "The answer; with `stream: true`, server-sent events instead.",
        "content": {"text/event-stream": {
            # OpenAPI 3.1: the schema of an event stream is that of one event
            "schema": {"type": "object", "required": ["event", "data"], "properties": {
                "event": {"enum": ["token", "answer", "error"]},
                "data": {"type": "string", "contentMediaType": "application/json"}}},
            "description": '`token` events `{"text": ...}` as the model writes, then one '
                           "`answer` event holding the Answer object, or one `error` event "
                           '`{"error": {"code", "message"}}` if generation fails mid-stream.',
        }},
    },
}
