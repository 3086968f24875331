"""An agent's conversations: start one, list them, read one, delete one."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.answering.conversations import ConversationSummary
from app.api.schemas.rules import RequestBody


class ConversationStart(RequestBody):
    title: str = Field(min_length=1, max_length=2000, description="Usually the first "
                       "question; cut to 80 characters.")


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]
