"""A collection can use its own local embedding model; a snapshot from another model is
refused with a clear error instead of being searched in the wrong vector space."""

from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import InvalidInput, Unavailable
from app.core.settings import RetrievalSettings, Settings
from app.knowledge.tables import Collection
from app.wiring import build_services
from models.fakes import FakeEmbedder, FakeLLM
from models.registry import resolve_embedder
from tests.conftest import write_kb

DUTCH = {"retour.md": "# Retourbeleid\n\nRetourzendingen worden binnen 14 dagen verwerkt.\n"}


def test_collections_with_different_models_are_searched_together(tmp_path: Path,
                                                                 kb: Path) -> None:
    made: list[str] = []

    def factory(name: str) -> FakeEmbedder:
        made.append(name)
        return FakeEmbedder(dimension=32, model_id="fake-multilingual")

    settings = Settings(data_dir=tmp_path / "d", retrieval=RetrievalSettings(min_dense_score=0))
    services = build_services(settings, embedder=FakeEmbedder(), llm=FakeLLM(),
                              embedder_factory=factory)
    try:
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        model_dir = resolve_embedder("all-MiniLM-L6-v2")  # any local model directory
        services.collections.upsert("nl", write_kb(tmp_path / "nl", DUTCH), "nl",
                                    str(model_dir))
        services.indexer.sync("nl")
        with services.sessions() as session:
            models = dict(session.execute(
                select(Collection.name, Collection.embedding_model)).all())
        assert models == {"kb": "fake-embedder", "nl": "fake-multilingual"}
        both = services.search.search("retourzendingen printer P-203", [],
                                      allowed={"kb", "nl"}, k=10)
        assert {h.collection for h in both.hits} == {"kb", "nl"}
        assert made == [str(model_dir.resolve())]  # loaded once, shared
    finally:
        services.close()


def test_unknown_model_path_is_refused(services, kb: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput, match="neither"):
        services.collections.upsert("kb", kb, "en", "/no/such/model")


def test_snapshot_of_another_model_is_refused_until_reindexed(tmp_path: Path, kb: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    first = build_services(settings, embedder=FakeEmbedder(model_id="model-a"), llm=FakeLLM())
    first.collections.upsert("kb", kb, "en")
    first.indexer.sync("kb")
    first.close()
    second = build_services(settings, embedder=FakeEmbedder(model_id="model-b"), llm=FakeLLM())
    try:
        with pytest.raises(Unavailable, match=r"model-a.*re-index"):
            second.search.search("vpn", ["kb"], allowed={"kb"})
        report = second.indexer.sync("kb")
        assert report.changed == 3 and report.snapshot_rebuilt
        assert second.search.search("vpn", ["kb"], allowed={"kb"}).hits
    finally:
        second.close()
