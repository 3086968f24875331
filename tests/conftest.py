"""Shared fixtures: isolated settings per test, a small hand-made collection, fake backends."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.db import create_scratch_database, drop_scratch_database
from app.core.settings import RetrievalSettings, Settings
from app.wiring import Services, build_services
from models.fakes import FakeEmbedder, FakeLLM

DEMO_KB = Path(__file__).resolve().parent.parent / "demo" / "kb"

SMALL_KB = {
    "vpn.md": "# VPN guide\n\n## Error codes\n\nVPN error NWL-VPN-809 means the device "
              "certificate expired. Reconnect on the office network to renew it.\n\n"
              "## Support\n\nCall the service desk on extension 4410.\n",
    "mail.txt": "Mail limits\n\nThe mailbox size limit is 50 GB. Attachments over 25 MB are "
                "refused by the mail server.\n",
    "printing/printers.md": "# Printers\n\nPrinter error P-203 means a paper jam in tray 2. "
                            "Open door B and remove the paper.\n",
}


def write_kb(root: Path, files: dict[str, str] = SMALL_KB) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", retrieval=RetrievalSettings(min_dense_score=0.2))


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return write_kb(tmp_path / "kb")


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM(["VPN error NWL-VPN-809 means the device certificate expired [1]."])


@pytest.fixture
def services(settings: Settings, fake_llm: FakeLLM) -> Iterator[Services]:
    built = build_services(settings, embedder=FakeEmbedder(), llm=fake_llm)
    yield built
    built.close()


@pytest.fixture
def indexed(services: Services, kb: Path) -> Services:
    services.collections.upsert("kb", kb, "en")
    services.indexer.sync("kb")
    return services


create_pg_database = create_scratch_database
drop_pg_database = drop_scratch_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    url, name = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings on SQLite and, as a second run of the same test, on PostgreSQL."""
    url, name = create_pg_database() if request.param == "postgres" else ("", "")
    try:
        yield Settings(data_dir=tmp_path / "data", database_url=url,
                       retrieval=RetrievalSettings(min_dense_score=0.2))
    finally:
        if name:
            drop_pg_database(name)


@pytest.fixture(scope="session")
def first_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prompt library of the shipped first versions only (answer@1, customer_reply@1)."""
    from prompts.registry import LIBRARY

    library = tmp_path_factory.mktemp("prompt-library")
    for path in LIBRARY.glob("*.v1.toml"):
        shutil.copy(path, library)
    return library


@pytest.fixture(scope="module")
def one_version_library(first_versions: Path) -> Iterator[Path]:
    """For tests of the governance itself (new versions, promotion, rollback): every
    ``Settings`` made in the module seeds only the first versions, so the tests make their
    own answer@2 instead of meeting the shipped one. (Module scope: servers started once per
    module must see it too.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VRAAGBAAK_PROMPT_LIBRARY", str(first_versions))
        yield first_versions
