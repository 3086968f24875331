"""The OpenAI chat-completions request as far as Vraagbaak reads it, and the completion it
gets back (OpenAI's fields, plus ``citations`` and ``vraagbaak`` that OpenAI clients ignore)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.answering.records import Answer, Citation, Sentence
from app.api.schemas.rules import NON_BLANK, RequestBody

# the question is the last user message: there must be one, with text (no_user_message)
A_USER_MESSAGE: dict[str, Any] = {"type": "object", "required": ["role", "content"],
                  "properties": {"role": {"const": "user"},
                                 "content": {"type": "string", **NON_BLANK}}}


class OpenAIMessage(RequestBody):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class OpenAIChatRequest(RequestBody):
    model: str = Field("vraagbaak", description="Ignored: the server's configured model answers.")
    messages: list[OpenAIMessage] = Field(min_length=1,
                                          json_schema_extra={"contains": A_USER_MESSAGE})
    stream: bool = False
    max_tokens: int | None = Field(
        None, ge=1, description="At most the server's llm.max_answer_tokens (the cap wins).")
    collections: list[str] = Field(
        default_factory=list, description="Vraagbaak extension: collections to search.")


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    finish_reason: str = "stop"
    message: CompletionMessage


class VraagbaakFields(BaseModel):
    """The extension OpenAI clients ignore: which answer this is and how it was checked."""

    answer_id: str = Field(description="GET /v1/answers/{answer_id} replays it.")
    sentences: list[Sentence]
    refused: bool
    prompt: str

    @classmethod
    def of(cls, answer: Answer) -> VraagbaakFields:
        return cls(answer_id=answer.answer_id, sentences=answer.sentences,
                   refused=answer.refused, prompt=answer.prompt)


class ChatCompletion(BaseModel):
    """An OpenAI ``chat.completion`` object, with Vraagbaak's citations alongside."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    citations: list[Citation]
    vraagbaak: VraagbaakFields

    @classmethod
    def of(cls, answer: Answer, *, created: int, model: str) -> ChatCompletion:
        return cls(id=f"chatcmpl-{answer.answer_id}", created=created, model=model,
                   choices=[CompletionChoice(message=CompletionMessage(content=answer.answer))],
                   citations=answer.citations, vraagbaak=VraagbaakFields.of(answer))


COMPLETION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": ChatCompletion,
        "description": "The completion; with `stream: true`, server-sent events instead.",
        "content": {"text/event-stream": {
            # OpenAPI 3.1: the schema of an event stream is that of one event
            "schema": {"type": "object", "required": ["data"], "properties": {
                "data": {"type": "string", "description": "A JSON object, or [DONE]."}}},
            "description": "`chat.completion.chunk` objects, the last with `citations` and "
                           "`vraagbaak`, then `[DONE]`; an `error` object if generation "
                           "fails mid-stream.",
        }},
    },
}
