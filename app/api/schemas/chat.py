"""Bodies and answers of ``POST /v1/chat``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    question: str = Field(description="What the agent asks.")
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    stream: bool = Field(False, description="Server-sent events: tokens, then the answer.")
    prompt: str = Field("answer", max_length=80, description="'answer' (the production "
                        "version) or a pilot version to try, e.g. 'answer@2'; recorded.")
