"""Incremental sync of one collection: folder -> SQL rows -> a new index snapshot.

Unchanged files (same sha256) are skipped; changed files are re-parsed and their rows replaced;
files that disappeared lose their rows right after the scan, before any file is parsed, and
files that can no longer be parsed lose theirs at the end, so a deleted playbook cannot be
cited again even before the new snapshot is live (search drops snapshot rows whose chunk no
longer exists in SQL). Work is committed in batches: a process killed mid-sync keeps the
batches it finished, the old snapshot keeps serving, and the next sync picks up the rest and
rebuilds the snapshot because ``content_version`` moved past ``snapshot_version``. A ``stop``
event set meanwhile (a server shutting down) ends the sync the same way, between files or
mid-parse (the parse child is killed), with ``Cancelled``.

One file never fails the sync: whatever goes wrong with it (a parse limit, a parser bug, a
batch that will not commit) is recorded in ``errors`` with its reason and the sync goes on, so
deletions and every good file are applied. A file indexed only in part (a page, text or chunk
limit) is listed in ``warnings``.

Each new chunk is checked for text that reads like instructions to a model
(``ingest.injection``) and stored with the reason; ``flagged`` lists every flagged passage of
the collection after the sync (not only this sync's), so the result shows the whole picture.

Vectors are reused by content hash, so a re-parse of an edited file embeds only new text.

Each document is dated (``ingest.dates``): the date the file states, else its modification
time. An unchanged file keeps the date it was stored with; a changed file gets its new one. A
row stored before dates were read (``dated_at`` null) is dated by the next sync, which parses
that file once more for it and updates the row in place (no new chunks, no embedding).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Conflict
from app.core.settings import IngestSettings
from app.core.tables import utcnow
from app.knowledge.collections import flagged_passages
from app.knowledge.tables import Chunk, Collection, Document
from ingest.chunking import ChunkDraft, embedding_text, iter_chunks
from ingest.dates import DocumentDate, file_date
from ingest.injection import detect_passage
from ingest.loaders import DocumentLoader, LoaderError, ParseLimits
from ingest.loaders.worker import Cancelled
from ingest.reading import read_file
from ingest.scanning import Candidate, scan
from ingest.snapshots import current_snapshot_id, write_snapshot
from models.embedder import EmbedderProtocol
from models.pool import EmbedderPool

log = logging.getLogger("vraagbaak.indexing")


@dataclass
class SyncReport:
    """What a sync did; ``errors`` holds every skipped file with its reason, ``warnings``
    every file indexed in part with what was left out, ``flagged`` every passage of the
    collection flagged as a possible prompt injection (document and reason)."""

    files_total: int = 0
    files_done: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    snapshot_id: str | None = None
    snapshot_rebuilt: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    flagged: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int | str | bool | list[dict[str, str]] | None]:
        return {
            "files_total": self.files_total,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": len(self.errors),
            "chunks_embedded": self.chunks_embedded,
            "chunks_total": self.chunks_total,
            "snapshot_id": self.snapshot_id,
            "snapshot_rebuilt": self.snapshot_rebuilt,
            "warnings": list(self.warnings),
            "flagged": list(self.flagged),
        }


Progress = Callable[[SyncReport], None]


@dataclass
class _Pending:
    candidate: Candidate
    sha256: str
    title: str
    drafts: list[ChunkDraft]
    existing_id: int | None
    notes: tuple[str, ...]  # what of the file was left out under a limit
    dated: DocumentDate | None = None


@dataclass
class _Undated:
    """Unchanged documents stored without a date (before dates were read), and the dates
    found for them in this sync, written in place at its end."""

    ids: set[int]
    found: dict[int, DocumentDate] = field(default_factory=dict)


@dataclass
class IndexingConfig:
    index_dir: Path
    chunk_words: int = 160
    overlap_words: int = 30
    max_file_bytes: int = 25_000_000
    max_chunks_per_file: int = 3000
    parse: ParseLimits = field(default_factory=ParseLimits)
    keep_snapshots: int = 2
    batch_chunks: int = 256  # chunks embedded and committed together

    @classmethod
    def of(cls, index_dir: Path, settings: IngestSettings) -> IndexingConfig:
        """The configuration ``settings`` describe (the one place that maps them)."""
        return cls(
            index_dir=index_dir, chunk_words=settings.chunk_words,
            overlap_words=settings.overlap_words,
            max_file_bytes=int(settings.max_file_mb * 1_000_000),
            max_chunks_per_file=settings.max_chunks_per_file,
            parse=ParseLimits(
                timeout_s=settings.parse_timeout_s, memory_mb=settings.parse_memory_mb,
                max_chars=settings.max_chars_per_file, max_pages=settings.max_pdf_pages,
                max_inflated_bytes=int(settings.max_inflated_mb * 1_000_000),
                max_compression_ratio=settings.max_compression_ratio),
            keep_snapshots=settings.keep_snapshots, batch_chunks=settings.batch_chunks)


class Indexer:
    """Syncs collections; one sync per collection at a time (the job runner guarantees it)."""

    def __init__(self, sessions: sessionmaker[Session], embedders: EmbedderPool,
                 config: IndexingConfig) -> None:
        self._sessions = sessions
        self._embedders = embedders
        self._config = config

    def sync(self, collection_name: str, progress: Progress | None = None, *,
             stop: threading.Event | None = None) -> SyncReport:
        report = SyncReport()
        notify = progress or (lambda _r: None)
        with self._sessions() as session:
            coll = session.scalars(
                select(Collection).where(Collection.name == collection_name)
            ).one()
            embedder = self._embedders.get(coll.embedder)
            candidates, skipped = scan(Path(coll.root), max_bytes=self._config.max_file_bytes)
            report.errors.extend({"path": s.rel, "reason": s.reason} for s in skipped)
            report.files_total = len(candidates)
            # Vectors of another model live in another space: re-embed everything once.
            reembed = coll.embedding_model != embedder.model_id
            stored = session.execute(select(Document.id, Document.path, Document.sha256,
                                            Document.dated_at)
                                     .where(Document.collection_id == coll.id)).all()
            known = {path: (doc_id, "" if reembed else sha) for doc_id, path, sha, _ in stored}
            undated = _Undated({doc_id for doc_id, _, _, at in stored if at is None})
            if reembed:
                session.execute(
                    update(Chunk).where(Chunk.collection_id == coll.id).values(text_hash="")
                )
                # in the same commit: a sync killed after it must still redo every file, not
                # take the old model's vectors for unchanged files on the next run
                session.execute(
                    update(Document).where(Document.collection_id == coll.id).values(sha256="")
                )
                coll.embedding_model = embedder.model_id
                coll.content_version += 1
                session.commit()
            present = {c.rel for c in candidates}
            # vanished files go first: a deleted playbook must not outlive a failing file
            self._remove(session, coll, [doc_id for path, (doc_id, _) in known.items()
                                         if path not in present], report)
            notify(report)
            seen: set[str] = set()
            pending: list[_Pending] = []
            with DocumentLoader(self._config.parse, stop=stop) as loader:
                for cand in candidates:
                    if stop is not None and stop.is_set():
                        raise Cancelled("the sync was stopped: the process is shutting down")
                    outcome = self._prepare(loader, coll, cand, known, report, undated)
                    report.files_done += 1
                    if outcome is not None:
                        seen.add(cand.rel)
                    if isinstance(outcome, _Pending):
                        pending.append(outcome)
                        if sum(len(p.drafts) for p in pending) >= self._config.batch_chunks:
                            self._flush(session, coll, embedder, pending, report)
                            pending = []
                    notify(report)
                self._flush(session, coll, embedder, pending, report)
            self._date_unchanged(session, undated)
            # files that are there but could not be parsed: their old text is no longer theirs
            self._remove(session, coll, [doc_id for path, (doc_id, _) in known.items()
                                         if path in present and path not in seen], report)
            self._ensure_snapshot(session, coll, embedder, report)
            report.flagged = flagged_passages(session, coll.id)
            notify(report)
        return report

    def rebuild(self, collection_name: str) -> SyncReport:
        """Rebuild the collection's snapshot from its SQL rows (stored vectors, no parsing or
        embedding) unless the current one already matches them: after a restore, or when the
        index directory was lost."""
        report = SyncReport()
        with self._sessions() as session:
            coll = session.scalars(
                select(Collection).where(Collection.name == collection_name)).one()
            embedder = self._embedders.get(coll.embedder)
            if coll.embedding_model not in (None, embedder.model_id):
                # the stored vectors are another model's: only a re-index makes them match
                raise Conflict(f"collection {collection_name} needs a re-index: its vectors "
                               "were made by another embedding model", code="needs_reindex")
            self._ensure_snapshot(session, coll, embedder, report)
        return report

    def _remove(self, session: Session, coll: Collection, doc_ids: list[int],
                report: SyncReport) -> None:
        if doc_ids:
            session.execute(delete(Document).where(Document.id.in_(doc_ids)))
            coll.content_version += 1
            session.commit()
            report.removed += len(doc_ids)

    def _prepare(self, loader: DocumentLoader, coll: Collection, cand: Candidate,
                 known: dict[str, tuple[int, str]], report: SyncReport, undated: _Undated,
                 ) -> _Pending | Literal["unchanged"] | None:
        """The file's new rows, "unchanged", or None when it was skipped (reason recorded)."""
        try:
            return self._load(loader, coll, cand, known, report, undated)
        except LoaderError as exc:
            report.errors.append({"path": cand.rel, "reason": str(exc)})
        except Exception as exc:  # a bug must cost this file, not the sync
            log.exception("indexing %r of collection %s failed", cand.rel, coll.name)
            report.errors.append({"path": cand.rel, "reason": f"could not be indexed "
                                  f"({type(exc).__name__}); see the server log"})
        return None

    def _load(self, loader: DocumentLoader, coll: Collection, cand: Candidate,
              known: dict[str, tuple[int, str]], report: SyncReport, undated: _Undated,
              ) -> _Pending | Literal["unchanged"]:
        # the bytes hashed are the bytes parsed, however the file changes meanwhile
        data = read_file(cand.path, self._config.max_file_bytes)
        sha = hashlib.sha256(data).hexdigest()
        existing = known.get(cand.rel)
        if existing and existing[1] == sha:
            report.unchanged += 1
            if existing[0] in undated.ids:
                try:
                    stated = loader.load(cand.path, data).dated
                except LoaderError:  # it was parsed before: a date is not worth dropping it
                    stated = None
                if dated := stated or file_date(cand.path):
                    undated.found[existing[0]] = dated
            return "unchanged"
        doc = loader.load(cand.path, data)
        limit = self._config.max_chunks_per_file
        drafts = list(islice(iter_chunks(
            doc.sections, collection=coll.name, path=cand.rel, title=doc.title,
            chunk_words=self._config.chunk_words, overlap_words=self._config.overlap_words,
        ), limit + 1))
        notes = doc.notes
        if len(drafts) > limit:
            drafts = drafts[:limit]
            notes += (f"chunks beyond the first {limit:,} left out",)
        if not drafts:
            raise LoaderError("no text found")
        return _Pending(cand, sha, doc.title, drafts, existing[0] if existing else None, notes,
                        doc.dated or file_date(cand.path))

    def _flush(self, session: Session, coll: Collection, embedder: EmbedderProtocol,
               pending: list[_Pending], report: SyncReport) -> None:
        """Store a batch; if it will not commit, store its files one by one, so that only the
        file at fault is lost (and keeps its previous version, if it had one)."""
        if not pending:
            return
        try:
            self._store(session, coll, embedder, pending, report)
        except Exception as exc:
            session.rollback()
            if len(pending) > 1:
                for item in pending:
                    self._flush(session, coll, embedder, [item], report)
                return
            log.exception("storing %r of collection %s failed", pending[0].candidate.rel,
                          coll.name)
            report.errors.append({"path": pending[0].candidate.rel, "reason": f"could not be "
                                  f"stored ({type(exc).__name__}); see the server log"})

    def _store(self, session: Session, coll: Collection, embedder: EmbedderProtocol,
               pending: list[_Pending], report: SyncReport) -> None:
        texts: dict[str, str] = {}
        for item in pending:
            for d in item.drafts:
                texts.setdefault(d.text_hash, embedding_text(item.title, d.heading, d.text))
        reused = {
            h: e
            for h, e in session.execute(
                select(Chunk.text_hash, Chunk.embedding).where(
                    Chunk.collection_id == coll.id, Chunk.text_hash.in_(list(texts))
                )
            )
        }
        todo = [h for h in texts if h not in reused]
        vectors = embedder.embed([texts[h] for h in todo])
        fresh = {h: vectors[i].astype(np.float32).tobytes() for i, h in enumerate(todo)}
        stale = [p.existing_id for p in pending if p.existing_id is not None]
        if stale:
            session.execute(delete(Document).where(Document.id.in_(stale)))
        for item in pending:
            doc = Document(collection_id=coll.id, path=item.candidate.rel, sha256=item.sha256,
                           size=item.candidate.size, title=item.title,
                           chunk_count=len(item.drafts), indexed_at=utcnow(),
                           dated_at=item.dated.at if item.dated else None,
                           dated_from=item.dated.source if item.dated else None)
            session.add(doc)
            session.flush()
            session.add_all(
                Chunk(id=d.id, document_id=doc.id, collection_id=coll.id, ord=d.ord,
                      text=d.text, heading=d.heading, page=d.page, text_hash=d.text_hash,
                      embedding=reused.get(d.text_hash) or fresh[d.text_hash],
                      injection=detect_passage(item.title, d.heading, d.text))
                for d in item.drafts
            )
        coll.content_version += 1
        session.commit()
        report.chunks_embedded += len(todo)
        report.added += sum(1 for p in pending if p.existing_id is None)
        report.changed += sum(1 for p in pending if p.existing_id is not None)
        report.warnings.extend(_warnings(pending))

    @staticmethod
    def _date_unchanged(session: Session, undated: _Undated) -> None:
        """Write the dates found for unchanged, undated rows (dates are not in the snapshot,
        so the content version stays)."""
        if undated.found:
            # an ORM bulk UPDATE by primary key: one statement, executed per row
            session.execute(update(Document), [
                {"id": doc_id, "dated_at": d.at, "dated_from": d.source}
                for doc_id, d in undated.found.items()])
            session.commit()

    def _ensure_snapshot(self, session: Session, coll: Collection, embedder: EmbedderProtocol,
                         report: SyncReport) -> None:
        """Rebuild the snapshot unless the current one matches the SQL content exactly."""
        on_disk = current_snapshot_id(self._config.index_dir, coll.name)
        if (on_disk is not None and on_disk == coll.snapshot_id
                and coll.snapshot_version == coll.content_version):
            report.snapshot_id = on_disk
            report.chunks_total = session.scalar(
                select(func.count()).select_from(Chunk).where(Chunk.collection_id == coll.id)
            ) or 0
            return
        rows = session.execute(
            select(Chunk.id, Chunk.embedding, Chunk.text, Chunk.heading, Document.title)
            .join(Document, Chunk.document_id == Document.id)
            .where(Chunk.collection_id == coll.id)
            .order_by(Chunk.id)
        ).all()
        dim = embedder.dimension
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, dim)
        meta = write_snapshot(
            self._config.index_dir,
            collection=coll.name,
            chunk_ids=[r[0] for r in rows],
            vectors=vectors,
            lexical_texts=[embedding_text(r[4], r[3], r[2]) for r in rows],
            language=coll.language,
            embedding_model=embedder.model_id,
            dimension=dim,
            content_version=coll.content_version,
            keep=self._config.keep_snapshots,
        )
        coll.snapshot_id = meta.id
        coll.snapshot_version = coll.content_version
        coll.indexed_at = utcnow()
        session.commit()
        report.snapshot_id = meta.id
        report.snapshot_rebuilt = True
        report.chunks_total = len(rows)


def _warnings(pending: Iterable[_Pending]) -> list[dict[str, str]]:
    return [{"path": p.candidate.rel, "reason": f"indexed in part: {note}"}
            for p in pending for note in p.notes]
