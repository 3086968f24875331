"""The OpenAI chat-completions request as far as Vraagbaak reads it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OpenAIMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class OpenAIChatRequest(BaseModel):
    model: str = Field("vraagbaak", description="Ignored: the server's configured model answers.")
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(
        None, ge=1, description="At most the server's llm.max_answer_tokens (the cap wins).")
    collections: list[str] = Field(
        default_factory=list, description="Vraagbaak extension: collections to search.")
