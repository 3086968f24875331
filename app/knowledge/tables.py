"""Collections, documents, chunks and re-index jobs: the source of truth for what is indexed.

Index snapshots are derived from these rows and can always be rebuilt from them; chunk vectors
are stored here too (float32 bytes), so a snapshot rebuild never re-embeds unchanged text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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


class Collection(Base):
    """A named folder of documents. ``content_version`` grows with every change to its rows;
    the snapshot records which version it was built from, so a stale snapshot is detected."""

    __tablename__ = "collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    root: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # the model this collection should use (None: the server default) and the one that made
    # its stored vectors; when they differ, the next sync re-embeds everything
    embedder: Mapped[str | None] = mapped_column(Text, default=None)
    embedding_model: Mapped[str | None] = mapped_column(String(200), default=None)
    content_version: Mapped[int] = mapped_column(Integer, default=0)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), default=None)
    snapshot_version: Mapped[int] = mapped_column(Integer, default=-1)
    # readable by every signed-in user; otherwise only by the teams granted in ``grants``
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    indexed_at: Mapped[datetime | None] = mapped_column(default=None)


class Document(Base):
    """One indexed file. ``dated_at`` is the date the file states (front matter, PDF or DOCX
    metadata, an HTML meta tag) or else its modification time, and ``dated_from`` says which
    (``ingest.dates``); both are null for rows indexed before dates were read, until the next
    sync reads them."""

    __tablename__ = "documents"
    # the knowledge gaps' "older than" list reads a collection's documents by date
    __table_args__ = (UniqueConstraint("collection_id", "path"),
                      Index("ix_documents_dated", "collection_id", "dated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(Text)  # relative to the collection root, forward slashes
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
    dated_at: Mapped[datetime | None] = mapped_column(default=None)
    dated_from: Mapped[str | None] = mapped_column(String(64), default=None)


class Chunk(Base):
    """A retrievable piece of a document. The id is a hash of collection, path, position and
    text, so it is stable across runs for unchanged content."""

    __tablename__ = "chunks"
    # the flagged passages of a collection, read by every sync and the collection page
    __table_args__ = (Index("ix_chunks_flagged", "collection_id", "injection"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), index=True
    )
    ord: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str] = mapped_column(Text, default="")
    page: Mapped[int | None] = mapped_column(Integer, default=None)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    # why the chunk reads like an instruction to a model (``ingest.injection``); None: it
    # doesn't. A flagged chunk never enters the prompt as plain context (answering.injection)
    injection: Mapped[str | None] = mapped_column(Text, default=None)


class Job(Base):
    """A background re-index with its progress; errors lists every skipped file and why."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="reindex")
    collection: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    files_total: Mapped[int] = mapped_column(Integer, default=0)
    files_done: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # the process running it and when it last said so (``app.core.background``)
    owner: Mapped[str | None] = mapped_column(String(128), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
