"""Hybrid retrieval: dense (FAISS, cosine) + BM25, fused by weighted reciprocal rank fusion.

Authorisation is part of the signature: ``search`` takes the caller's readable collections as a
required keyword argument with no default, and a requested collection outside it is reported
exactly like one that does not exist. Hits are hydrated from SQL, so a chunk deleted since the
snapshot was built is never returned. Each hit carries its collection's language and embedding
model: one search may span an English and a Dutch collection, and whatever checks a hit later
(grounding, quotes) must analyse it the way it was indexed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Collection as Names
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import NotFound, Unavailable
from app.core.settings import RetrievalSettings
from app.knowledge.tables import Chunk, Collection, Document
from ingest.leases import REFRESH_S, hold, holder_id, release
from ingest.lexical import LexicalIndex
from ingest.snapshots import Snapshot, SnapshotError, collection_dir, current_snapshot_id
from models.embedder import EmbedderProtocol
from models.pool import EmbedderPool

log = logging.getLogger("vraagbaak.search")


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    score: float
    text: str
    collection: str
    document: str  # path relative to the collection folder
    title: str
    heading: str
    page: int | None
    dense_score: float | None
    lexical_score: float | None
    # the collection's analysis, carried so each chunk is checked the way it was indexed:
    language: str = "en"  # BM25 / support-check language
    embedder: str | None = None  # the collection's embedding model setting; None = default
    # why ingest flagged the chunk as a possible prompt injection (``ingest.injection``);
    # None: not flagged. Answering keeps a flagged chunk out of the prompt and the lead.
    injection: str | None = None


@dataclass
class SearchResult:
    hits: list[Hit]
    snapshot_ids: dict[str, str | None]
    best_dense: float = 0.0  # best cosine similarity over all searched collections
    candidates: list[Hit] = field(default_factory=list)  # hydrated hits beyond the top k
    # the BM25 indexes searched: which words the collections use at all
    vocabularies: list[LexicalIndex] = field(default_factory=list, repr=False)

    def knows(self, word: str) -> bool:
        return any(v.knows(word) for v in self.vocabularies)


class SnapshotStore:
    """Serves the current snapshot of each collection, reloading when CURRENT moves."""

    def __init__(self, index_dir: Path) -> None:
        self._index_dir = index_dir
        self._loaded: dict[str, Snapshot] = {}
        self._lock = threading.Lock()
        self._holder = holder_id()
        self._renewed: dict[str, float] = {}  # collection -> when its lease was last written

    def get(self, collection: str, embedder: EmbedderProtocol) -> Snapshot | None:
        """The current snapshot, refused (503) if another model than ``embedder`` built it."""
        snapshot_id = current_snapshot_id(self._index_dir, collection)
        if snapshot_id is None:
            return None
        self._lease(collection, snapshot_id)
        cached = self._loaded.get(collection)
        if cached is None or cached.meta.id != snapshot_id:
            with self._lock:
                cached = self._loaded.get(collection)
                if cached is None or cached.meta.id != snapshot_id:
                    try:
                        cached = Snapshot.load(
                            self._index_dir, collection, snapshot_id,
                            embedding_model=embedder.model_id, dimension=embedder.dimension)
                    except SnapshotError as exc:
                        raise Unavailable(str(exc), code="index_unavailable") from None
                    self._loaded[collection] = cached
        if cached.meta.embedding_model != embedder.model_id:
            raise Unavailable(f"collection '{collection}' was indexed with "
                              f"{cached.meta.embedding_model}, not {embedder.model_id}; "
                              "re-index it", code="index_unavailable")
        return cached

    def _lease(self, collection: str, snapshot_id: str) -> None:
        """Hold ``snapshot_id`` before loading or searching it, renewed every ``REFRESH_S``
        (or at once when the snapshot changed), so no sweep removes it under this process."""
        now = time.monotonic()
        cached = self._loaded.get(collection)
        if (cached is not None and cached.meta.id == snapshot_id
                and now - self._renewed.get(collection, float("-inf")) < REFRESH_S):
            return
        try:
            hold(collection_dir(self._index_dir, collection), self._holder, snapshot_id)
        except OSError as exc:  # a read-only index directory: serve, but say why it may go
            log.warning("could not write the snapshot lease of %s: %s", collection, exc)
        self._renewed[collection] = now

    def release(self) -> None:
        """Give up this process's leases (at shutdown): its snapshots may be swept now."""
        for collection in list(self._renewed):
            release(collection_dir(self._index_dir, collection), self._holder)
        self._renewed.clear()


_IDENTIFIER = re.compile(r"\b\w*\d\w*\b")  # the digit-bearing tokens of codes


def identifier_query(query: str) -> str:
    """The codes and numbers in a query (``NWL-VPN-809``, ``P-203``, ``4410``), or "".

    Support questions often hinge on one identifier that neither the embedding (which smears
    it) nor full-query BM25 (where common words outweigh it in long chunks) ranks first; a
    third ranking over just these tokens gives the exact match its due in the fusion.
    """
    return " ".join(m.group(0) for m in _IDENTIFIER.finditer(query))


def identifying_rows(size: int) -> int:
    """The most chunks a part of a code may occur in and still identify something: 1% of the
    collection, at least 100. "NW" in "NW-VPN-00123" that occurs in every chunk with a code
    adds nothing to the identifier ranking but time (bench.search at 1M chunks: this and the
    sparse BM25 scoring together took the end-to-end p95 from 65.8 ms to 38 ms); small
    collections are never filtered."""
    return max(100, size // 100)


def rrf(rankings: list[tuple[list[str], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the rankings."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank)
    return fused


class SearchService:
    def __init__(self, sessions: sessionmaker[Session], embedders: EmbedderPool,
                 snapshots: SnapshotStore, settings: RetrievalSettings) -> None:
        self._sessions = sessions
        self._embedders = embedders
        self._snapshots = snapshots
        self._settings = settings

    def close(self) -> None:
        """Give up the snapshot leases of this process (``SnapshotStore.release``)."""
        self._snapshots.release()

    def snapshot(self, collection: str, embedder: EmbedderProtocol) -> Snapshot | None:
        return self._snapshots.get(collection, embedder)

    def resolve(self, requested: list[str], *, allowed: Names[str]) -> dict[str, str | None]:
        """The requested collections (name -> embedder setting), checked against the
        caller's readable set.

        An empty request means every readable collection. Unknown and unreadable names get
        the same 404, so the answer never reveals that a collection exists.
        """
        with self._sessions() as session:
            existing = dict(session.execute(select(Collection.name, Collection.embedder)).all())
        readable = {name: existing[name] for name in sorted(existing) if name in set(allowed)}
        if not requested:
            return readable
        for name in requested:
            if name not in readable:
                raise NotFound(f"collection '{name}' not found", code="collection_not_found")
        return {name: readable[name] for name in dict.fromkeys(requested)}

    def chunk_text(self, chunk_id: str, *, allowed: Names[str]) -> str:
        """One chunk's text, for showing a citation in its context; the same 404 for an
        unknown chunk and one in a collection the caller may not read."""
        with self._sessions() as session:
            row = session.execute(select(Chunk.text, Collection.name)
                                  .join(Collection, Collection.id == Chunk.collection_id)
                                  .where(Chunk.id == chunk_id)).first()
        if row is None or row[1] not in set(allowed):
            raise NotFound("chunk not found", code="chunk_not_found")
        return str(row[0])

    def search(self, query: str, collections: list[str], *, allowed: Names[str],
               k: int = 10) -> SearchResult:
        targets = self.resolve(collections, allowed=allowed)
        names = list(targets)
        n = self._settings.candidates
        vectors: dict[str, npt.NDArray[np.float32]] = {}  # one query embedding per model
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        exact: list[tuple[str, float]] = []
        codes = identifier_query(query)
        snapshot_ids: dict[str, str | None] = {}
        vocabularies: list[LexicalIndex] = []
        for name in names:
            embedder = self._embedders.get(targets[name])
            snap = self._snapshots.get(name, embedder)
            snapshot_ids[name] = snap.meta.id if snap else None
            if snap is None:
                continue
            if embedder.model_id not in vectors:
                vectors[embedder.model_id] = embedder.embed([query])[0]
            vector = vectors[embedder.model_id]
            dense += [(snap.chunk_ids[r], s) for r, s in snap.search_dense(vector, n)]
            lexical += [(snap.chunk_ids[r], s) for r, s in snap.lexical.search(query, n)]
            vocabularies.append(snap.lexical)
            if codes:
                exact += [(snap.chunk_ids[r], s) for r, s in snap.lexical.search(
                    codes, n, max_rows=identifying_rows(len(snap.chunk_ids)))]
        dense.sort(key=lambda x: -x[1])
        lexical.sort(key=lambda x: -x[1])
        exact.sort(key=lambda x: -x[1])
        dense, lexical, exact = dense[:n], lexical[:n], exact[:n]
        fused = rrf(
            [([c for c, _ in dense], self._settings.dense_weight),
             ([c for c, _ in lexical], self._settings.lexical_weight),
             ([c for c, _ in exact], self._settings.identifier_weight)],
            self._settings.rrf_k,
        )
        order = sorted(fused, key=lambda c: -fused[c])
        # Hydrate in slices of twice the results asked for: SQL reads dominate a search at
        # 100k chunks, and a candidate is only missing when deleted since the snapshot.
        hits: list[Hit] = []
        start, size = 0, max(2 * k, 20)
        dense_scores, lexical_scores = dict(dense), dict(lexical)
        while len(hits) < k and start < len(order):
            hits += self._hydrate(order[start:start + size], fused, dense_scores,
                                  lexical_scores, names)
            start += size
        return SearchResult(
            hits=hits[:k],
            snapshot_ids=snapshot_ids,
            best_dense=dense[0][1] if dense else 0.0,
            candidates=hits,
            vocabularies=vocabularies,
        )

    def _hydrate(self, order: list[str], fused: dict[str, float], dense: dict[str, float],
                 lexical: dict[str, float], names: list[str]) -> list[Hit]:
        if not order:
            return []
        with self._sessions() as session:
            rows = session.execute(
                # named columns only: a Chunk row would drag its 1.5 kB vector along
                select(Chunk.id, Chunk.text, Chunk.heading, Chunk.page, Document.path,
                       Document.title, Collection.name, Collection.language,
                       Collection.embedder, Chunk.injection)
                .join(Document, Chunk.document_id == Document.id)
                .join(Collection, Chunk.collection_id == Collection.id)
                .where(Chunk.id.in_(order))  # primary-key lookups only: adding the
                # collection filter here made SQLite scan the whole collection (504 vs 6 ms
                # at 100k chunks); it is applied below instead
            ).all()
        allowed = set(names)
        by_id = {row[0]: row for row in rows if row[6] in allowed}
        hits = []
        for chunk_id in order:
            if chunk_id not in by_id:
                continue  # deleted since the snapshot was built
            _, text, heading, page, path, title, coll, language, embedder, injection = \
                by_id[chunk_id]
            hits.append(Hit(
                chunk_id=chunk_id, score=fused[chunk_id], text=text, collection=coll,
                document=path, title=title, heading=heading, page=page,
                dense_score=dense.get(chunk_id), lexical_score=lexical.get(chunk_id),
                language=language, embedder=embedder, injection=injection,
            ))
        return hits
