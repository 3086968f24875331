"""Knowledge owners, knowledge issues, their reports, cited documents and linked re-indexes.

No row here holds a copy of a question or an answer: an issue and each report point at
``answers.id`` and read the texts from there, so the retention job that blanks old answer
texts blanks them here too. The one text a reporter typed that is kept is the report's
``comment`` (the feedback's or the rejection's comment). The allowed values of the string
columns are the ``Literal`` types of ``app.knowledge_issues.records``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow
from app.knowledge_issues.records import Change, OwnerKind, ReportKind, Resolution, State


class KnowledgeOwner(Base):
    """A user or a team owning a collection, or a folder of it (``prefix``: a folder path
    relative to the collection root, forward slashes, no slash at either end; "" is the whole
    collection). ``owner_id`` is ``users.id`` or ``teams.id`` as ``kind`` says."""

    __tablename__ = "knowledge_owners"
    __table_args__ = (UniqueConstraint("collection_id", "prefix", "kind", "owner_id",
                                       name="uq_knowledge_owners_folder_owner"),
                      Index("ix_knowledge_owners_owner", "kind", "owner_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[OwnerKind] = mapped_column(String(8))
    owner_id: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KnowledgeIssue(Base):
    """Reports about one gap or error in a collection's documents, grouped: the first
    report's answer stands for the issue; ``question_vector`` (float32 bytes, made by
    ``embedding_model``) is what later reports are compared with."""

    __tablename__ = "knowledge_issues"
    __table_args__ = (Index("ix_knowledge_issues_open", "collection", "state",
                            "last_reported_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    collection: Mapped[str] = mapped_column(String(64))
    # every collection the reports' answers drew on: a viewer must read them all
    collections: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the first cited document's path: routes the issue to the owners of its folder
    document: Mapped[str] = mapped_column(Text, default="")
    answer_id: Mapped[str | None] = mapped_column(
        ForeignKey("answers.id", ondelete="SET NULL"), default=None)
    question_vector: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    embedding_model: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[State] = mapped_column(String(16), default="open")
    reports: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolution: Mapped[Resolution | None] = mapped_column(String(24), default=None)
    resolution_reason: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(128), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)


class KnowledgeIssueReport(Base):
    """One person's report: a thumbs-down, a rejected draft or a disputed refusal. One per
    answer, person and kind (a changed vote updates it)."""

    __tablename__ = "knowledge_issue_reports"
    __table_args__ = (UniqueConstraint("answer_id", "user_id", "kind",
                                       name="uq_knowledge_issue_reports_answer_user_kind"),
                      Index("ix_knowledge_issue_reports_user", "user_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_issues.id", ondelete="CASCADE"), index=True)
    # None once retention deleted the answer: the report (kind, reasons) still counts
    answer_id: Mapped[str | None] = mapped_column(
        ForeignKey("answers.id", ondelete="SET NULL"), default=None)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    kind: Mapped[ReportKind] = mapped_column(String(24))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    draft_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssueDocument(Base):
    """A document the issue's answers cited, with the sha256 it had when it was cited and
    the cited chunks. ``document_id`` is kept without a foreign key: a document the next
    sync removes still says what was cited (and counts as changed). A re-index compares by
    collection and path, which is what names a document across syncs."""

    __tablename__ = "knowledge_issue_documents"

    issue_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_issues.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    # the document's collection: a re-index of it looks here, even for a removed document
    collection: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    chunk_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class IssueLink(Base):
    """A re-index that changed (or removed) a document an open issue cites. ``sha256`` is
    the document's content after that re-index ("" when removed), so a later re-index that
    leaves it as it is links nothing again."""

    __tablename__ = "knowledge_issue_links"

    issue_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_issues.id", ondelete="CASCADE"), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    change: Mapped[Change] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
