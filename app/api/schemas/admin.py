"""Collections, grants and re-index jobs, for admins (the job record itself is
``app.knowledge.job_records``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.rules import RequestBody
from app.knowledge.job_records import Job


class GrantsRequest(RequestBody):
    everyone: bool = Field(False, description="Every signed-in user may read it.")
    teams: list[str] = Field(default_factory=list, description="Teams that may read it.")


class Grants(BaseModel):
    """Who may read a collection, besides admins."""

    collection: str
    everyone: bool = Field(description="Every signed-in user may read it.")
    teams: list[str] = Field(description="Teams that may read it, sorted.")


class JobList(BaseModel):
    """A collection's latest re-indexes, newest first."""

    jobs: list[Job]
