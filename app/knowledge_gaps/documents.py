"""The two document lists of a gaps report, each one SQL query over indexed columns: the
documents no answer cited since a cutoff (``documents`` joined to ``document_citations`` on
its primary key), and the documents dated before one (``ix_documents_dated``)."""

from __future__ import annotations

from collections.abc import Collection as Names
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.knowledge.tables import Collection, Document
from app.knowledge_gaps.records import DocumentList, GapDocument
from app.knowledge_gaps.tables import DocumentCitation


# the rows of both lists; last_cited_at is None where the outer join found no citation
def _documents() -> Select[str, str, str, datetime | None, str | None, datetime, datetime]:
    return (select(Collection.name, Document.path, Document.title, Document.dated_at,
                   Document.dated_from, Document.indexed_at, DocumentCitation.last_cited_at)
            .join(Collection, Collection.id == Document.collection_id)
            .outerjoin(DocumentCitation, and_(DocumentCitation.collection == Collection.name,
                                              DocumentCitation.path == Document.path)))


def _listed(session: Session,
            query: Select[str, str, str, datetime | None, str | None, datetime, datetime],
            limit: int) -> DocumentList:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    documents = [GapDocument(collection=c, path=p, title=t, dated_at=d, dated_from=f,
                             indexed_at=i, last_cited_at=cited)
                 for c, p, t, d, f, i, cited in session.execute(query.limit(limit))]
    return DocumentList(total=total or 0, documents=documents)


def uncited(session: Session, scope: Names[str], since: datetime, limit: int) -> DocumentList:
    """Documents of ``scope`` not cited since ``since``, never-cited first, then the longest
    uncited. A document indexed after ``since`` (new, or changed and so re-stored) has not
    had the time to be cited and is left out."""
    query = (_documents()
             .where(Collection.name.in_(list(scope)), Document.indexed_at < since,
                    or_(DocumentCitation.last_cited_at.is_(None),
                        DocumentCitation.last_cited_at < since))
             .order_by(DocumentCitation.last_cited_at.asc().nulls_first(), Collection.name,
                       Document.path))
    return _listed(session, query, limit)


def old(session: Session, scope: Names[str], before: datetime, limit: int) -> DocumentList:
    """Documents of ``scope`` dated before ``before``, oldest first."""
    query = (_documents()
             .where(Collection.name.in_(list(scope)), Document.dated_at < before)
             .order_by(Document.dated_at, Collection.name, Document.path))
    return _listed(session, query, limit)


def undated(session: Session, scope: Names[str]) -> int:
    """Documents of ``scope`` stored before dates were read (the next sync dates them)."""
    return session.scalar(
        select(func.count()).select_from(Document)
        .join(Collection, Collection.id == Document.collection_id)
        .where(Collection.name.in_(list(scope)), Document.dated_at.is_(None))) or 0
