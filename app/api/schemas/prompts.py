"""The governed prompt library."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


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
    zone: Literal["exploration", "pilot"]


class PromoteRequest(BaseModel):
    run_id: str = Field(max_length=32, description="A finished run of this version on its "
                        "gate set.")
