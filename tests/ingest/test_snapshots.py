from pathlib import Path

import numpy as np
import pytest

from ingest.snapshots import Snapshot, SnapshotMismatch, current_snapshot_id, write_snapshot


def _write(index_dir: Path, texts: list[str], model: str = "m") -> str:
    vectors = np.eye(len(texts), 4, dtype=np.float32)
    ids = [f"id{i}" for i in range(len(texts))]
    meta = write_snapshot(index_dir, collection="c", chunk_ids=ids,
                          vectors=vectors, lexical_texts=texts, language="en",
                          embedding_model=model, dimension=4, content_version=1)
    return meta.id


def test_write_switches_current_and_loads(tmp_path: Path) -> None:
    sid = _write(tmp_path, ["alpha printer", "beta vpn"])
    assert current_snapshot_id(tmp_path, "c") == sid
    snap = Snapshot.load(tmp_path, "c", sid, embedding_model="m", dimension=4)
    assert snap.search_dense(np.array([0, 1, 0, 0], dtype=np.float32), 1) == [(1, 1.0)]
    assert snap.lexical.search("printers", 2)[0][0] == 0


def test_other_embedding_model_is_refused(tmp_path: Path) -> None:
    sid = _write(tmp_path, ["alpha"])
    with pytest.raises(SnapshotMismatch, match="re-index"):
        Snapshot.load(tmp_path, "c", sid, embedding_model="other", dimension=4)
    with pytest.raises(SnapshotMismatch):
        Snapshot.load(tmp_path, "c", sid, embedding_model="m", dimension=8)


def test_partial_write_leaves_old_snapshot_current_and_is_swept(tmp_path: Path) -> None:
    old = _write(tmp_path, ["alpha"])
    crashed = tmp_path / "c" / "snapshots" / "20990101T000000-dead.partial"
    crashed.mkdir()  # what a kill mid-write leaves behind
    assert current_snapshot_id(tmp_path, "c") == old
    new = _write(tmp_path, ["beta"])
    names = sorted(p.name for p in (tmp_path / "c" / "snapshots").iterdir())
    assert not crashed.exists()
    assert names == sorted([old, new])


def test_only_newest_snapshots_are_kept(tmp_path: Path) -> None:
    ids = [_write(tmp_path, [f"text {i}"]) for i in range(4)]
    names = sorted(p.name for p in (tmp_path / "c" / "snapshots").iterdir())
    assert names == ids[-2:]


def test_empty_collection_snapshot_searches_empty(tmp_path: Path) -> None:
    meta = write_snapshot(tmp_path, collection="c", chunk_ids=[],
                          vectors=np.zeros((0, 4), dtype=np.float32), lexical_texts=[],
                          language="en", embedding_model="m", dimension=4, content_version=0)
    snap = Snapshot.load(tmp_path, "c", meta.id, embedding_model="m", dimension=4)
    assert snap.search_dense(np.ones(4, dtype=np.float32), 3) == []
    assert snap.lexical.search("anything", 3) == []


def test_large_collections_get_an_hnsw_index_with_high_recall(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    import faiss

    from ingest import snapshots

    monkeypatch.setattr(snapshots, "EXACT_LIMIT", 100)
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = write_snapshot(tmp_path, collection="c", chunk_ids=[f"id{i}" for i in range(2000)],
                          vectors=vectors, lexical_texts=[f"chunk text {i}" for i in range(2000)],
                          language="en",
                          embedding_model="m", dimension=16, content_version=1)
    snap = Snapshot.load(tmp_path, "c", meta.id, embedding_model="m", dimension=16)
    assert isinstance(snap._dense, faiss.IndexHNSWFlat)
    exact = vectors @ vectors[:50].T
    found = sum(snap.search_dense(vectors[i], 10)[0][0] == int(np.argmax(exact[:, i]))
                for i in range(50))
    assert found >= 49  # the nearest neighbour of a stored vector is itself
