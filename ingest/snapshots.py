"""Index snapshots: a directory per collection version, written whole, then made current.

Layout under ``<index_dir>/<collection>/``::

    CURRENT                 name of the serving snapshot (replaced atomically)
    snapshots/<id>/         meta.json, rows.json (chunk id per row), dense.faiss, bm25/

Write order is what makes a crash harmless: every file is written and fsynced inside
``<id>.partial``, the directory is renamed to ``<id>`` and fsynced, and only then ``CURRENT`` is
replaced through a fsynced temp file and ``os.replace``. A process killed at any point leaves the
old ``CURRENT`` pointing at a complete snapshot; leftovers are swept on the next write.

Sweeping keeps the new snapshot and the one it replaced (a process that read the old
``CURRENT`` a moment ago may be loading it) before any other: a complete snapshot that never
became current (its writer was killed between the rename and the switch) goes first. A snapshot
is removed by renaming it to ``<id>.partial`` first, so a sweep killed half-way leaves a
leftover to sweep again, never a half-deleted directory under a complete snapshot's name.
A snapshot that a serving process holds a lease on (``ingest.leases``) is never swept.

A snapshot records the embedding model id and dimension; loading it under another model raises
``SnapshotMismatch`` instead of serving vectors from a different space.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt

from ingest.leases import held
from ingest.lexical import LexicalIndex


class SnapshotError(Exception):
    """A snapshot is missing or unreadable."""


class SnapshotMismatch(SnapshotError):
    """The snapshot was built with another embedding model or dimension."""


@dataclass(frozen=True)
class SnapshotMeta:
    id: str
    collection: str
    created_at: str
    embedding_model: str
    dimension: int
    language: str
    chunk_count: int
    content_version: int


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*"), reverse=True):
        _fsync_file(path)
    _fsync_file(root)


def collection_dir(index_dir: Path, collection: str) -> Path:
    return index_dir / collection


def current_snapshot_id(index_dir: Path, collection: str) -> str | None:
    pointer = collection_dir(index_dir, collection) / "CURRENT"
    try:
        return pointer.read_text().strip() or None
    except FileNotFoundError:
        return None


# Up to this many chunks an exact flat scan is fast enough (about 4 ms at 20k x 384); above
# it the scan grows linearly (about 20 ms p50 / 46 ms p95 at 100k on 2 cores), so larger
# collections get an HNSW graph: approximate, about a millisecond, recall kept high by efSearch.
EXACT_LIMIT = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def dense_index(dimension: int, rows: int) -> faiss.Index:
    """Exact inner product for small collections, HNSW (inner product) for large ones."""
    if rows <= EXACT_LIMIT:
        return faiss.IndexFlatIP(dimension)
    index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    return index


def write_snapshot(
    index_dir: Path,
    *,
    collection: str,
    chunk_ids: list[str],
    vectors: npt.NDArray[np.float32],
    lexical_texts: list[str],
    language: str,
    embedding_model: str,
    dimension: int,
    content_version: int,
    keep: int = 2,
) -> SnapshotMeta:
    """Write a complete snapshot and switch ``CURRENT`` to it."""
    if vectors.shape != (len(chunk_ids), dimension):
        raise SnapshotError(f"vectors shape {vectors.shape} does not match {len(chunk_ids)} rows")
    now = datetime.now(UTC)
    meta = SnapshotMeta(
        id=f"{now:%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:6]}",  # sorts by time
        collection=collection,
        created_at=now.isoformat(),
        embedding_model=embedding_model,
        dimension=dimension,
        language=language,
        chunk_count=len(chunk_ids),
        content_version=content_version,
    )
    base = collection_dir(index_dir, collection)
    snapshots = base / "snapshots"
    snapshots.mkdir(parents=True, exist_ok=True)
    partial = snapshots / f"{meta.id}.partial"
    partial.mkdir()

    dense = dense_index(dimension, len(chunk_ids))
    if len(chunk_ids):
        dense.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(dense, str(partial / "dense.faiss"))
    LexicalIndex.build(lexical_texts, language).save(partial / "bm25")
    (partial / "rows.json").write_text(json.dumps(chunk_ids))
    (partial / "meta.json").write_text(json.dumps(asdict(meta), indent=2))
    _fsync_tree(partial)

    final = snapshots / meta.id
    partial.rename(final)
    _fsync_file(snapshots)

    previous = current_snapshot_id(index_dir, collection)
    tmp = base / "CURRENT.tmp"
    tmp.write_text(meta.id)
    _fsync_file(tmp)
    os.replace(tmp, base / "CURRENT")
    _fsync_file(base)
    _sweep(snapshots, keep=keep, current=meta.id, previous=previous)
    return meta


def _sweep(snapshots: Path, *, keep: int, current: str, previous: str | None) -> None:
    """Remove partial leftovers and all complete snapshots but ``keep``: the current one, the
    one it replaced, then the newest others (see the module docstring), and never one that a
    serving process holds a fresh lease on (``ingest.leases``)."""
    in_use = held(snapshots.parent)
    partial = [p for p in snapshots.iterdir() if p.name.endswith(".partial")]
    others = sorted((p.name for p in snapshots.iterdir()
                     if not p.name.endswith(".partial") and p.name not in (current, previous)),
                    reverse=True)
    ranked = [current, *([previous] if previous and previous != current else []), *others]
    for name in ranked[max(keep, 1):]:
        if name in in_use:
            continue
        doomed = snapshots / f"{name}.partial"
        try:
            (snapshots / name).rename(doomed)
        except OSError:  # already gone (or not ours to remove): nothing to sweep
            continue
        partial.append(doomed)
    for path in partial:
        shutil.rmtree(path, ignore_errors=True)


class Snapshot:
    """A loaded, read-only snapshot. FAISS flat search and bm25s retrieval are read-only here,
    so concurrent searches on one Snapshot are safe."""

    def __init__(self, meta: SnapshotMeta, chunk_ids: list[str], dense: faiss.Index,
                 lexical: LexicalIndex) -> None:
        self.meta = meta
        self.chunk_ids = chunk_ids
        self._dense = dense
        self.lexical = lexical

    @classmethod
    def load(cls, index_dir: Path, collection: str, snapshot_id: str, *,
             embedding_model: str, dimension: int) -> Snapshot:
        path = collection_dir(index_dir, collection) / "snapshots" / snapshot_id
        try:
            meta = SnapshotMeta(**json.loads((path / "meta.json").read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise SnapshotError(f"index snapshot of '{collection}' is unreadable") from exc
        if meta.embedding_model != embedding_model or meta.dimension != dimension:
            raise SnapshotMismatch(
                f"collection '{collection}' was indexed with {meta.embedding_model} "
                f"({meta.dimension}-d) but this server embeds with {embedding_model} "
                f"({dimension}-d); re-index the collection"
            )
        chunk_ids = json.loads((path / "rows.json").read_text())
        # memory-mapped and read-only: the vectors stay in the page cache, shared by every
        # process on the host that serves this snapshot, instead of a copy per process
        dense = faiss.read_index(str(path / "dense.faiss"),
                                 faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        if isinstance(dense, faiss.IndexHNSWFlat):
            dense.hnsw.efSearch = HNSW_EF_SEARCH
        lexical = LexicalIndex.load(path / "bm25", meta.language, len(chunk_ids))
        return cls(meta, chunk_ids, dense, lexical)

    def search_dense(self, vector: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        if not self.chunk_ids:
            return []
        # One OpenMP thread for a single query (per calling thread): parallel regions gain
        # nothing here, and their spinning workers starved the query embedding beside them
        # (MiniLM p95 25 -> 178 ms in bench.search with HNSW searches in between).
        faiss.omp_set_num_threads(1)
        scores, rows = self._dense.search(vector.reshape(1, -1), min(k, len(self.chunk_ids)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
