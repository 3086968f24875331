"""The knowledge gaps' derived tables: nothing here is a source of truth, all of it can be
rebuilt from the answers (delete the rows and the next report makes them again).

``gap_question_vectors`` caches one embedding per answer's question, so a report embeds only
the questions it has not seen; ``text_hash`` and ``model_id`` say what the vector was made of
and by which model, so an anonymised question or a new default model is embedded afresh.

``document_citations`` is when each document was last cited, keyed by collection name and
path (what an answer's citations name; a re-indexed document gets a new row id, but keeps
its path), kept up to date from the answers stored since ``citation_scans.scanned_until``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.tables import Base, utcnow


class QuestionVector(Base):
    __tablename__ = "gap_question_vectors"

    answer_id: Mapped[str] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the question embedded
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, unit length
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentCitation(Base):
    __tablename__ = "document_citations"

    collection: Mapped[str] = mapped_column(String(64), primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    last_cited_at: Mapped[datetime] = mapped_column()


class CitationScan(Base):
    """How far the answers have been read into ``document_citations``: one row."""

    __tablename__ = "citation_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    scanned_until: Mapped[datetime] = mapped_column()
