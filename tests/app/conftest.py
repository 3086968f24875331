from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import Settings
from app.main import create_app
from app.wiring import Services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import sign_in


@pytest.fixture
def client(settings: Settings, fake_llm: FakeLLM, kb: Path) -> Iterator[TestClient]:
    app = create_app(settings, embedder=FakeEmbedder(), llm=fake_llm)
    with TestClient(app, raise_server_exceptions=False) as c:
        services: Services = sign_in(c)  # an agent who is also an admin
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        yield c
