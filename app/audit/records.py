"""The verdict of recomputing the audit trail's hash chain, as it crosses the service boundary:
typed, so ``vraagbaak audit verify`` and ``GET /v1/admin/audit/verify`` report the same fields
and ``/openapi.json`` documents them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class AuditVerification(BaseModel):
    """The verdict of recomputing the hash chain from the first entry."""

    ok: bool = Field(description="true: every entry links to the one before and is unchanged.")
    entries: int = Field(description="Entries verified (before the break, when broken).")
    head_hash: str = Field(description="Hash of the last verified entry: keep a copy elsewhere; "
                           "it proves later that nothing before it was rewritten.")
    broken_seq: int | None = Field(None, description="The first entry where the chain breaks.")
    reason: str = Field("", description="What is wrong at broken_seq.")

