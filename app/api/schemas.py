"""Request bodies. Responses are the services' plain dicts, documented by example."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    question: str = Field(description="What the agent asks.")
    collections: list[str] = Field(
        default_factory=list, description="Collections to search; empty means all readable.")
    stream: bool = Field(False, description="Server-sent events: tokens, then the answer.")


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
    collections: list[str] = Field(
        default_factory=list, description="Vraagbaak extension: collections to search.")
