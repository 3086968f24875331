"""Collections, grants and re-index jobs, for admins."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GrantsRequest(BaseModel):
    everyone: bool = Field(False, description="Every signed-in user may read it.")
    teams: list[str] = Field(default_factory=list, description="Teams that may read it.")
