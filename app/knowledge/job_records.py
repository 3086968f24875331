"""A re-index job as it crosses the service boundary: typed, so the admin API, the tests and
``/openapi.json`` agree on its fields. Times are ISO 8601 strings, as the answer records write
them.

A job's row is written by the worker thread as the sync goes (``progress``), and its
``result`` once the sync is done; every file the sync skipped is listed with its reason, so an
admin sees why a document is not answerable without reading the server log.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.background import JobStatus
from app.knowledge.records import FlaggedPassage


class SkippedFile(BaseModel):
    """A file the sync did not index, and why (unsupported, too large, unparsable, ...)."""

    path: str = Field(description="Relative to the collection's folder.")
    reason: str


class PartlyIndexedFile(BaseModel):
    """A file the sync indexed only in part, and what it left out (pages, text or chunks past
    a limit)."""

    path: str = Field(description="Relative to the collection's folder.")
    reason: str


class JobProgress(BaseModel):
    files_done: int
    files_total: int
    chunks_embedded: int
    errors: int = Field(description="Files skipped so far.")


class SyncSummary(BaseModel):
    """What a finished sync did (``app.knowledge.indexing.SyncReport.summary``)."""

    files_total: int
    added: int
    changed: int
    unchanged: int
    removed: int
    skipped: int
    chunks_embedded: int
    chunks_total: int = Field(description="Chunks in the new index.")
    snapshot_id: str | None
    snapshot_rebuilt: bool = Field(description="false: nothing changed, the index stayed.")
    warnings: list[PartlyIndexedFile] = Field(
        default_factory=list, description="Files indexed in part, and what was left out.")
    flagged: list[FlaggedPassage] = Field(
        default_factory=list, description="Passages of the collection flagged as a possible "
        "prompt injection (each document and reason once), after this sync.")


class Job(BaseModel):
    """A background re-index of one collection, with its progress and outcome."""

    id: str
    kind: str = Field(description="reindex")
    collection: str
    requested_by: str
    status: JobStatus
    progress: JobProgress
    result: SyncSummary | None = Field(description="Once the job succeeded.")
    errors: list[SkippedFile]
    message: str
    runner: str | None = Field(description="The process that runs it, or ran it last "
                               "(host:pid:id); none while it waits for one.")
    attempts: int = Field(description="How many processes have taken it; over 1 after a "
                          "process running it stopped and another took it over.")
    heartbeat_at: str | None = Field(description="When its runner last said it is alive.")
    created_at: str
    started_at: str | None
    finished_at: str | None
