"""Knowledge owners and issues: the requests (the answers are the records of
``app.knowledge_issues.records``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.rules import NON_BLANK, RequestBody, schema_only
from app.knowledge_issues.records import FOLDER_MAX, REASON_MAX, Issue, MyReport, Resolution

# the service's own check (owner_required), declared for clients too
ONE_OWNER: list[dict[str, Any]] = [
    {"required": ["user"], "properties": {"user": {"type": "string"}},
     "not": {"required": ["team"], "properties": {"team": {"type": "string"}}}},
    {"required": ["team"], "properties": {"team": {"type": "string"}},
     "not": {"required": ["user"], "properties": {"user": {"type": "string"}}}},
]


class OwnerRequest(RequestBody):
    """A user or a team (exactly one) to own the collection, or a folder of it."""

    model_config = ConfigDict(strict=True, json_schema_extra=schema_only(oneOf=ONE_OWNER))

    user: str | None = Field(None, min_length=1, max_length=64, description="A username.")
    team: str | None = Field(None, min_length=1, max_length=64, description="A team name.")
    folder: str = Field("", max_length=FOLDER_MAX, description="A folder inside the "
                        "collection (e.g. printing/manuals); empty: the whole collection.")


class ResolveRequest(RequestBody):
    resolution: Resolution = Field(description="document_changed: the documents were fixed; "
                                   "works_as_intended: the answer stands.")
    reason: str = Field(max_length=REASON_MAX, description="What was done, or why the "
                        "answer stands; the reporters read it.", json_schema_extra=NON_BLANK)


class IssueList(BaseModel):
    """The issues routed to you (all of them for an admin), most recently reported first."""

    issues: list[Issue]


class ReportList(BaseModel):
    """The reports you gave that became knowledge issues, newest first."""

    reports: list[MyReport]
