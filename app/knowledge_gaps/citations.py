"""When each document was last cited, kept as a small table so "not cited in N days" is one
indexed join and not a scan of every answer's citations JSON.

Why a table filled from the answers, not a write beside each answer: the answers are stored by
several front doors and processes (the API, the CLI, drafts, other servers on the same
database), and a derived table that reads what they stored cannot miss one of them nor fail
an answer. ``refresh`` reads the answers stored since its last run (``answers.created_at`` is
indexed), takes each cited (collection, path)'s latest time, and upserts it; it runs before
every report, so the table is never staler than the report that reads it. The first run after
the upgrade reads every stored answer once (on a large history that one report is slow); the
runs after it read minutes' worth.

An answer's row becomes visible when its transaction commits, a moment after its
``created_at``; each run therefore re-reads ``OVERLAP`` before its watermark (upserting a time
already there changes nothing). Evaluation runs (channel ``eval``) are test sets, not people
using a document, and do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.answering.tables import Answer
from app.knowledge_gaps.tables import CitationScan, DocumentCitation

OVERLAP = timedelta(minutes=10)
SCAN_ID = 1
_BATCH = 500


def refresh(session: Session) -> None:
    """Bring ``document_citations`` up to the answers committed so far; commits."""
    scan = session.get(CitationScan, SCAN_ID)
    query = select(Answer.created_at, Answer.citations).where(Answer.channel != "eval")
    if scan is not None:
        query = query.where(Answer.created_at >= scan.scanned_until - OVERLAP)
    newest = scan.scanned_until if scan is not None else None
    latest: dict[tuple[str, str], datetime] = {}
    # streamed (a server-side cursor on PostgreSQL): the first run may read every answer
    for created_at, citations in session.execute(query.execution_options(yield_per=1000)):
        newest = created_at if newest is None else max(newest, created_at)
        for citation in citations or ():
            key = (citation.get("collection"), citation.get("document"))
            if (isinstance(key[0], str) and isinstance(key[1], str)
                    and (key not in latest or latest[key] < created_at)):
                latest[key] = created_at
    _upsert(session, latest.items())
    if newest is not None:
        if scan is None:
            session.add(CitationScan(id=SCAN_ID, scanned_until=newest))
        else:
            scan.scanned_until = newest
    try:
        session.commit()
    except IntegrityError:  # another report made the first scan meanwhile: it read the same
        session.rollback()


def _upsert(session: Session, cited: Iterable[tuple[tuple[str, str], datetime]]) -> None:
    """Each document's time, unless the table already holds a later one."""
    cited = list(cited)
    if not cited:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # any other database: row by row
        for (collection, path), at in cited:
            known = session.get(DocumentCitation, (collection, path))
            if known is None:
                session.add(DocumentCitation(collection=collection, path=path,
                                             last_cited_at=at))
            elif known.last_cited_at < at:
                known.last_cited_at = at
        return
    rows = [{"collection": c, "path": p, "last_cited_at": at} for (c, p), at in cited]
    statement = insert(DocumentCitation)
    statement = statement.on_conflict_do_update(
        index_elements=["collection", "path"],
        set_={"last_cited_at": case(
            (statement.excluded.last_cited_at > DocumentCitation.last_cited_at,
             statement.excluded.last_cited_at),
            else_=DocumentCitation.last_cited_at)})
    for start in range(0, len(rows), _BATCH):
        session.execute(statement, rows[start:start + _BATCH])
