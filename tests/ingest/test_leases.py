"""A snapshot a serving process holds survives any number of newer snapshots; once the process
releases it, or stops renewing its lease, the next sweep removes it. Two stores over one index
directory (two replicas) each serve the newest snapshot the other's writer published."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ingest.leases import LEASE_S, held, hold, holder_id, release
from ingest.snapshots import current_snapshot_id, write_snapshot
from models.fakes import FakeEmbedder


def _write(index_dir: Path, texts: list[str]) -> str:
    vectors = np.eye(len(texts), 4, dtype=np.float32)
    ids = [f"id{i}" for i in range(len(texts))]
    return write_snapshot(index_dir, collection="c", chunk_ids=ids, vectors=vectors,
                          lexical_texts=texts, language="en", embedding_model="m",
                          dimension=4, content_version=1).id


def _names(index_dir: Path) -> set[str]:
    return {p.name for p in (index_dir / "c" / "snapshots").iterdir()}


def test_a_held_snapshot_outlives_newer_ones_until_released(tmp_path: Path) -> None:
    first = _write(tmp_path, ["alpha"])
    hold(tmp_path / "c", "replica-b", first)
    newer = [_write(tmp_path, [f"text {i}"]) for i in range(3)]
    assert _names(tmp_path) == {first, *newer[-2:]}  # kept beside the usual two
    release(tmp_path / "c", "replica-b")
    last = _write(tmp_path, ["omega"])
    assert _names(tmp_path) == {newer[-1], last}


def test_a_lease_nobody_renews_stops_protecting_and_is_removed(tmp_path: Path) -> None:
    first = _write(tmp_path, ["alpha"])
    hold(tmp_path / "c", "crashed-replica", first)
    lease = tmp_path / "c" / "leases" / "crashed-replica"
    stale = time.time() - LEASE_S - 1
    os.utime(lease, (stale, stale))
    assert held(tmp_path / "c") == set()
    assert not lease.exists()
    for i in range(2):
        _write(tmp_path, [f"text {i}"])
    assert first not in _names(tmp_path)


def test_holder_ids_differ_per_store() -> None:
    assert holder_id() != holder_id()


def test_two_stores_on_one_directory_serve_what_the_other_published(tmp_path: Path) -> None:
    from app.knowledge.search import SnapshotStore

    embedder = FakeEmbedder(dimension=4, model_id="m")
    a, b = SnapshotStore(tmp_path), SnapshotStore(tmp_path)
    first = _write(tmp_path, ["alpha"])
    served_a = a.get("c", embedder)
    served_b = b.get("c", embedder)
    assert served_a is not None and served_b is not None
    assert served_a.meta.id == served_b.meta.id == first
    assert len(held(tmp_path / "c")) == 1 and len(list((tmp_path / "c" / "leases").iterdir())) == 2

    second = _write(tmp_path, ["beta", "gamma"])  # published by "a third process"
    now_b = b.get("c", embedder)
    assert now_b is not None and now_b.meta.id == second and now_b.meta.chunk_count == 2
    # a still holds the first (it has not searched since): the sweep after a third write
    # keeps it for a, and removes nothing that b serves
    third = _write(tmp_path, ["delta"])
    assert first in _names(tmp_path) and third in _names(tmp_path)
    a.release()
    b.release()
    assert held(tmp_path / "c") == set()
    assert current_snapshot_id(tmp_path, "c") == third
