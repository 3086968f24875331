"""Incremental sync of one collection: folder -> SQL rows -> a new index snapshot.

Unchanged files (same sha256) are skipped; changed files are re-parsed and their rows replaced;
files that disappeared (or can no longer be parsed) lose their rows at once, so a deleted
playbook cannot be cited again even before the new snapshot is live (search drops snapshot rows
whose chunk no longer exists in SQL). Work is committed in batches: a process killed mid-sync
keeps the batches it finished, the old snapshot keeps serving, and the next sync picks up the
rest and rebuilds the snapshot because ``content_version`` moved past ``snapshot_version``.

Vectors are reused by content hash, so a re-parse of an edited file embeds only new text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.tables import utcnow
from app.knowledge.tables import Chunk, Collection, Document
from ingest.chunking import ChunkDraft, chunk_sections, embedding_text
from ingest.loaders import DocumentLoader, LoaderError
from ingest.scanning import Candidate, scan
from ingest.snapshots import current_snapshot_id, write_snapshot
from models.embedder import EmbedderProtocol
from models.pool import EmbedderPool


@dataclass
class SyncReport:
    """What a sync did; ``errors`` holds every skipped file with its reason."""

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

    def summary(self) -> dict[str, int | str | bool | None]:
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
        }


Progress = Callable[[SyncReport], None]


@dataclass
class _Pending:
    candidate: Candidate
    sha256: str
    title: str
    drafts: list[ChunkDraft]
    existing_id: int | None


@dataclass
class IndexingConfig:
    index_dir: Path
    chunk_words: int = 160
    overlap_words: int = 30
    max_file_bytes: int = 25_000_000
    pdf_timeout_s: float = 30.0
    pdf_memory_mb: int = 1024
    keep_snapshots: int = 2
    batch_chunks: int = 256  # chunks embedded and committed together


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Indexer:
    """Syncs collections; one sync per collection at a time (the job runner guarantees it)."""

    def __init__(self, sessions: sessionmaker[Session], embedders: EmbedderPool,
                 config: IndexingConfig) -> None:
        self._sessions = sessions
        self._embedders = embedders
        self._config = config

    def sync(self, collection_name: str, progress: Progress | None = None) -> SyncReport:
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
            known = {
                d.path: (d.id, "" if reembed else d.sha256)
                for d in session.scalars(select(Document).where(Document.collection_id == coll.id))
            }
            if reembed:
                session.execute(
                    update(Chunk).where(Chunk.collection_id == coll.id).values(text_hash="")
                )
                coll.embedding_model = embedder.model_id
                coll.content_version += 1
                session.commit()
            notify(report)
            seen: set[str] = set()
            pending: list[_Pending] = []
            with DocumentLoader(self._config.pdf_timeout_s, self._config.pdf_memory_mb) as loader:
                for cand in candidates:
                    outcome = self._prepare(loader, coll, cand, known, report)
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
            gone = [doc_id for path, (doc_id, _) in known.items() if path not in seen]
            if gone:
                session.execute(delete(Document).where(Document.id.in_(gone)))
                report.removed = len(gone)
                coll.content_version += 1
                session.commit()
            self._ensure_snapshot(session, coll, embedder, report)
            notify(report)
        return report

    def _prepare(self, loader: DocumentLoader, coll: Collection, cand: Candidate,
                 known: dict[str, tuple[int, str]], report: SyncReport,
                 ) -> _Pending | Literal["unchanged"] | None:
        """The file's new rows, "unchanged", or None when it was skipped (reason recorded)."""
        try:
            sha = _sha256(cand.path)
        except OSError:
            report.errors.append({"path": cand.rel, "reason": "could not read file"})
            return None
        existing = known.get(cand.rel)
        if existing and existing[1] == sha:
            report.unchanged += 1
            return "unchanged"
        try:
            doc = loader.load(cand.path)
        except LoaderError as exc:
            report.errors.append({"path": cand.rel, "reason": str(exc)})
            return None
        drafts = chunk_sections(
            doc.sections,
            collection=coll.name,
            path=cand.rel,
            title=doc.title,
            chunk_words=self._config.chunk_words,
            overlap_words=self._config.overlap_words,
        )
        if not drafts:
            report.errors.append({"path": cand.rel, "reason": "no text found"})
            return None
        if existing:
            report.changed += 1
        else:
            report.added += 1
        return _Pending(cand, sha, doc.title, drafts, existing[0] if existing else None)

    def _flush(self, session: Session, coll: Collection, embedder: EmbedderProtocol,
               pending: list[_Pending], report: SyncReport) -> None:
        if not pending:
            return
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
        report.chunks_embedded += len(todo)
        stale = [p.existing_id for p in pending if p.existing_id is not None]
        if stale:
            session.execute(delete(Document).where(Document.id.in_(stale)))
        for item in pending:
            doc = Document(collection_id=coll.id, path=item.candidate.rel, sha256=item.sha256,
                           size=item.candidate.size, title=item.title,
                           chunk_count=len(item.drafts), indexed_at=utcnow())
            session.add(doc)
            session.flush()
            session.add_all(
                Chunk(id=d.id, document_id=doc.id, collection_id=coll.id, ord=d.ord,
                      text=d.text, heading=d.heading, page=d.page, text_hash=d.text_hash,
                      embedding=reused.get(d.text_hash) or fresh[d.text_hash])
                for d in item.drafts
            )
        coll.content_version += 1
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
