"""The governed prompt library: requests, and the catalogue's envelope (the records
themselves are ``app.prompt_library.records``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.prompt_library.records import PromptEntry
from prompts.zones import MovableZone


class PromptVersionRequest(BaseModel):
    system: str = Field(min_length=1, max_length=20_000)
    user: str = Field(min_length=1, max_length=20_000,
                      description="Must contain {context} and {question}.")
    context_item: str | None = Field(None, max_length=5000)
    stop: list[str] | None = None
    description: str = Field("", max_length=500)
    change_note: str = Field(min_length=1, max_length=2000, description="Why this version.")
    gate: dict[str, Any] | None = Field(None, description="{set, min: {...}, max: {...}}; "
                                        "default: the newest version's gate.")


class ZoneRequest(BaseModel):
    zone: MovableZone = Field(description="Production is reached only by promotion.")


class PromoteRequest(BaseModel):
    run_id: str = Field(max_length=32, description="A finished run of this version on its "
                        "gate set.")


class PromptCatalogue(BaseModel):
    prompts: list[PromptEntry]
