"""The production path: the same ingest, search and answer flow on PostgreSQL.

Each run creates its own database on 127.0.0.1:5432 and drops it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.principal import Principal
from app.core.settings import RetrievalSettings, Settings
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_services(pg_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url,
                        retrieval=RetrievalSettings(min_dense_score=0.2))
    services = build_services(settings, embedder=FakeEmbedder(),
                              llm=FakeLLM(["Error NWL-VPN-809 means the certificate expired [1]."]))
    yield services
    services.close()


def test_ingest_search_answer_on_postgres(pg_services: Services, kb: Path) -> None:
    pg_services.collections.upsert("kb", kb, "en")
    report = pg_services.indexer.sync("kb")
    assert report.added == 3 and report.snapshot_rebuilt
    assert pg_services.indexer.sync("kb").unchanged == 3  # incremental on PostgreSQL too
    hits = pg_services.search.search("printer error P-203", ["kb"], allowed={"kb"}).hits
    assert hits[0].document == "printing/printers.md"
    operator = Principal.operator()
    answer = pg_services.answers.answer("VPN error NWL-VPN-809", ["kb"], allowed={"kb"},
                                        asker=operator)
    assert answer.citations[0].document == "vpn.md"
    stored = pg_services.answers.get(answer.answer_id, readable={"kb"}, viewer=operator)
    assert stored.retrieved and stored.prompt == "answer@2"


def test_deleted_file_leaves_postgres_too(pg_services: Services, kb: Path) -> None:
    pg_services.collections.upsert("kb", kb, "en")
    pg_services.indexer.sync("kb")
    (kb / "mail.txt").unlink()
    assert pg_services.indexer.sync("kb").removed == 1
    hits = pg_services.search.search("mailbox size limit", ["kb"], allowed={"kb"}, k=10).hits
    assert all(h.document != "mail.txt" for h in hits)
