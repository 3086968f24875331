"""The knowledge-issue vocabulary (owner kinds, report kinds, states, resolutions) and what
the feature hands across its boundary: owners, issues with their reports, cited documents
and linked re-indexes, and a reporter's own reports."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from app.review.records import Timestamp

OwnerKind = Literal["user", "team"]
ReportKind = Literal["thumbs_down", "draft_rejected", "refusal_disputed"]
"""Where a report came from: a thumbs-down on an answer, a reviewer's rejection of a draft,
or a thumbs-down with ``refused_but_documented`` on a refused answer."""
State = Literal["open", "resolved"]
Resolution = Literal["document_changed", "works_as_intended"]
"""``document_changed``: the documents were fixed (and re-indexed); ``works_as_intended``:
the answer stands, and the reason says why."""
Change = Literal["changed", "removed"]

OWNER_KINDS: tuple[OwnerKind, ...] = get_args(OwnerKind)
REPORT_KINDS: tuple[ReportKind, ...] = get_args(ReportKind)
STATES: tuple[State, ...] = get_args(State)
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)
REASON_MAX = 2000
FOLDER_MAX = 500


class Owner(BaseModel):
    """Who owns a collection, or a folder of it."""

    owner_id: int = Field(description="This ownership's id (to remove it).")
    collection: str
    folder: str = Field(description="Folder path inside the collection; \"\": all of it.")
    kind: OwnerKind
    name: str = Field(description="The username or team name.")
    created_at: Timestamp


class CitedDocument(BaseModel):
    document_id: int
    collection: str
    path: str
    sha256: str = Field(description="The document's content hash when it was cited.")
    chunk_ids: list[str]


class LinkedReindex(BaseModel):
    """A re-index that changed or removed a cited document while the issue was open."""

    job_id: str
    document: str = Field(description="The document's path in its collection.")
    change: Change
    linked_at: Timestamp


class IssueReport(BaseModel):
    kind: ReportKind
    reporter: str = Field(description="Username of whoever reported it; \"\" if unknown.")
    answer_id: str | None = Field(description="Null once retention deleted the answer.")
    draft_id: str | None = None
    reasons: list[str] = Field(description="The feedback's reason chips or the rejection's "
                               "reason.")
    comment: str
    created_at: Timestamp


class Issue(BaseModel):
    """A knowledge issue as its owners see it. The question and answer are the first
    report's, read from the stored answer (empty once retention has removed the text)."""

    issue_id: str
    collection: str
    collections: list[str] = Field(description="Every collection the reports' answers drew "
                                   "on: a viewer must read them all.")
    document: str = Field(description="The first cited document (routes the issue); \"\" "
                          "if nothing was cited.")
    state: State
    question: str
    answer: str
    refused: bool
    reports: int = Field(description="How often it was reported (similar questions "
                         "grouped).")
    owners: list[str] = Field(description="Who it is routed to: users, and teams as "
                              "team:NAME; empty when unowned (admins see it).")
    unowned: bool
    created_at: Timestamp
    last_reported_at: Timestamp
    resolution: Resolution | None
    resolution_reason: str
    resolved_by: str
    resolved_at: Timestamp | None
    documents: list[CitedDocument]
    report_list: list[IssueReport]
    reindexes: list[LinkedReindex]


class MyReport(BaseModel):
    """A report someone gave, and where its issue stands."""

    issue_id: str
    kind: ReportKind
    answer_id: str | None = Field(description="Null once retention deleted the answer.")
    question: str
    reasons: list[str]
    comment: str
    created_at: Timestamp
    state: State
    resolution: Resolution | None
    resolution_reason: str
    resolved_at: Timestamp | None
