"""What an index snapshot costs in memory per process, and whether replicas on one host share
it: the FAISS index and the BM25 arrays are memory-mapped read-only (``ingest.snapshots``,
``ingest.lexical``), so their pages are the page cache's, not a copy per process.

One process, then two at once, each loads the snapshot and runs ``queries`` dense and BM25
searches (so the pages a search touches are in), then reads ``/proc/self/smaps_rollup`` at the
same moment as the other: RSS, its anonymous part (a private copy) and its file-backed part,
and PSS (file pages shared by several processes count by their share in each; the bench's
own process holds the snapshot too).
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import numpy as np

from ingest.snapshots import Snapshot

FIELDS = ("Rss", "Pss", "Anonymous")


def rollup() -> dict[str, float]:
    """This process's memory in MB from /proc/self/smaps_rollup (Linux)."""
    values: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in FIELDS:
            values[key] = int(rest.split()[0]) / 1024
    return values


def _serve(index_dir: str, collection: str, snapshot_id: str, model: str, dim: int,
           queries: list[str], barrier: Barrier) -> dict[str, float]:
    before = rollup()
    snap = Snapshot.load(Path(index_dir), collection, snapshot_id, embedding_model=model,
                         dimension=dim)
    rng = np.random.default_rng(7)
    for q in queries:
        vector = rng.standard_normal(dim).astype(np.float32)
        snap.search_dense(vector / np.linalg.norm(vector), 100)
        snap.lexical.search(q, 100)
    barrier.wait()  # both processes hold their pages now
    after = rollup()
    barrier.wait()  # and neither leaves before the other has read its figures
    grew = {k: after[k] - before.get(k, 0.0) for k in FIELDS}
    return {"rss_mb": round(grew["Rss"], 1), "private_anon_mb": round(grew["Anonymous"], 1),
            "file_backed_mb": round(grew["Rss"] - grew["Anonymous"], 1),
            "pss_mb": round(grew["Pss"], 1)}


def measure(index_dir: Path, collection: str, snapshot_id: str, model: str, dim: int,
            queries: list[str]) -> list[dict[str, Any]]:
    """Rows: the snapshot's memory in one process alone, then in each of two at once."""
    rows: list[dict[str, Any]] = []
    ctx = multiprocessing.get_context("spawn")
    for n in (1, 2):
        with ctx.Manager() as manager, ctx.Pool(n) as pool:
            args = (str(index_dir), collection, snapshot_id, model, dim, queries,
                    manager.Barrier(n))
            results = [pool.apply_async(_serve, args) for _ in range(n)]
            for i, result in enumerate(results):
                rows.append({"processes": n, "process": i + 1, **result.get(timeout=1800)})
    return rows
