"""Kill -9 a re-index again and again (``bench.kill_loop`` in small; the 50-kill run is
``python -m bench.kill_loop``), plus the two crash windows it led to, tested directly: a model
change interrupted half-way, and a snapshot orphaned between its rename and the switch."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.core.settings import IngestSettings, Settings
from app.wiring import build_services
from bench.kill_loop import Target, consistency_problems, kill_loop
from ingest.snapshots import current_snapshot_id, write_snapshot
from models.embedder import Vectors
from models.fakes import FakeEmbedder, FakeLLM
from tests.conftest import write_kb


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no handler catches it."""


class DyingEmbedder(FakeEmbedder):
    """Model "b" that dies (like a killed process) on its ``survive + 1``-th batch."""

    def __init__(self, survive: int) -> None:
        super().__init__(dimension=32, model_id="b")
        self._survive = survive

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self.calls >= self._survive:
            raise Killed
        return super().embed(texts)


def test_a_model_change_killed_half_way_is_finished_by_the_next_run(tmp_path: Path) -> None:
    kb = write_kb(tmp_path / "kb")
    settings = Settings(data_dir=tmp_path / "data", ingest=IngestSettings(batch_chunks=1))

    def sync_with(embedder: FakeEmbedder) -> None:
        services = build_services(settings, embedder=embedder, llm=FakeLLM())
        try:
            services.collections.upsert("kb", kb, "en")
            services.indexer.sync("kb")
        finally:
            services.close()

    sync_with(FakeEmbedder(dimension=64, model_id="a"))
    with pytest.raises(Killed):  # the new model stores one file, then the process dies
        sync_with(DyingEmbedder(survive=1))
    sync_with(FakeEmbedder(dimension=32, model_id="b"))

    services = build_services(settings, embedder=FakeEmbedder(dimension=32, model_id="b"),
                              llm=FakeLLM())
    try:
        # every vector is model b's: none of model a's outlived the interrupted change
        assert consistency_problems(Target(settings.data_dir, kb), services.engine,
                                    "b", 32) == []
        hits = services.search.search("printer error P-203", ["kb"], allowed={"kb"}).hits
        assert hits[0].document == "printing/printers.md"
    finally:
        services.close()


def _write(index_dir: Path, text: str) -> str:
    return write_snapshot(index_dir, collection="c", chunk_ids=["id0"],
                          vectors=np.eye(1, 4, dtype=np.float32), lexical_texts=[text],
                          language="en", embedding_model="m", dimension=4,
                          content_version=1).id


def test_a_snapshot_orphaned_by_a_kill_goes_before_the_one_just_replaced(tmp_path: Path) -> None:
    first = _write(tmp_path, "alpha")
    snapshots = tmp_path / "c" / "snapshots"
    # killed between the rename and the switch: complete, newer than CURRENT, never current
    orphan = f"{first[:-1]}z"
    shutil.copytree(snapshots / first, snapshots / orphan)
    assert current_snapshot_id(tmp_path, "c") == first
    second = _write(tmp_path, "beta")
    # a server that read CURRENT just before the switch may be loading the first one
    assert sorted(p.name for p in snapshots.iterdir()) == sorted([first, second])


def test_the_sweep_still_keeps_only_the_newest(tmp_path: Path) -> None:
    ids = [_write(tmp_path, f"text {i}") for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "c" / "snapshots").iterdir()) == ids[-2:]


@pytest.mark.slow
def test_kill_loop_on_sqlite(tmp_path: Path) -> None:
    result = kill_loop("sqlite", tmp_path, kills=3, seed=14)
    assert result.kills == 3
    assert result.mismatches == []
    assert result.converged
    assert result.reader_loads > 0  # the old snapshot was read while the runs went


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_loop_on_postgres(tmp_path: Path) -> None:
    result = kill_loop("postgres", tmp_path, kills=2, seed=15)
    assert result.kills == 2
    assert result.mismatches == []
    assert result.converged
