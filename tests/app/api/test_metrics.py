"""``GET /metrics``: off without a token, the token as bearer, and figures that Prometheus can
parse, labelled by route template and never by a raw path, collection or user name."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.core.settings import AuthSettings, RetrievalSettings, Settings
from app.main import create_app
from app.wiring import Services
from models.fakes import FakeEmbedder, FakeLLM
from tests.access import bearer, make_user
from tests.conftest import write_kb

TOKEN = "scrape-me-please-0123456789"


def _settings(tmp_path: Path, token: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", metrics_token=SecretStr(token),
                    retrieval=RetrievalSettings(min_dense_score=0.2),
                    auth=AuthSettings(chat_rate="1000/minute"))


@pytest.fixture
def api(tmp_path: Path, kb: Path, fake_llm: FakeLLM) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path, TOKEN), embedder=FakeEmbedder(), llm=fake_llm)
    with TestClient(app, raise_server_exceptions=False) as c:
        services: Services = c.app.state.services  # type: ignore[attr-defined]
        services.collections.upsert("kb", kb, "en")
        services.indexer.sync("kb")
        services.access.set_grants("kb", everyone=True)
        yield c


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = client.get("/metrics", headers=bearer(TOKEN))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_off_without_a_token(tmp_path: Path, fake_llm: FakeLLM) -> None:
    app = create_app(_settings(tmp_path, ""), embedder=FakeEmbedder(), llm=fake_llm)
    with TestClient(app) as c:
        r = c.get("/metrics", headers=bearer("anything"))
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"  # JSON, like the rest of the API
        assert c.get("/healthz").status_code == 200


def test_metrics_need_the_token(api: TestClient) -> None:
    for headers in ({}, bearer("wrong"), {"Authorization": f"Basic {TOKEN}"}):
        r = api.get("/metrics", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
        assert "vraagbaak_" not in r.text
    # a user's API token is not the metrics token, even an admin's
    services: Services = api.app.state.services  # type: ignore[attr-defined]
    assert api.get("/metrics", headers=bearer(make_user(services, "root", ["admin"]))
                   ).status_code == 401
    assert api.get("/metrics", headers=bearer(TOKEN)).status_code == 200


def test_metrics_count_requests_by_route_template_and_answers_by_outcome(
        api: TestClient) -> None:
    services: Services = api.app.state.services  # type: ignore[attr-defined]
    alice = bearer(make_user(services, "alice", ["agent"]))
    assert api.post("/v1/chat", json={"question": "VPN error NWL-VPN-809"},
                    headers=alice).status_code == 200
    assert api.post("/v1/chat", json={"question": "zebra giraffe savanna"},
                    headers=alice).json()["refused"] is True
    assert api.get("/v1/answers/secret-looking-id-123", headers=alice).status_code == 404
    assert api.get("/no/such/page/for-anyone").status_code == 404
    samples = scrape(api)
    count = "vraagbaak_http_request_duration_seconds_count"
    assert value(samples, count, route="/v1/chat", method="POST", status="200") == 2
    assert value(samples, count, route="/v1/answers/{answer_id}", method="GET",
                 status="404") == 1
    assert value(samples, count, route="unmatched", method="GET", status="404") == 1
    assert value(samples, "vraagbaak_answers_total", outcome="answered", channel="chat") == 1
    assert value(samples, "vraagbaak_answers_total", outcome="refused", channel="chat") == 1
    assert value(samples, "vraagbaak_llm_queue_wait_seconds_count") == 1  # only the answered
    assert value(samples, "vraagbaak_llm_first_token_seconds_count") == 1
    assert value(samples, "vraagbaak_llm_queue_depth") == 0
    assert value(samples, "vraagbaak_database_up") == 1
    assert value(samples, "process_resident_memory_bytes") > 0
    assert value(samples, "vraagbaak_review_oldest_pending_seconds") == 0
    # no raw path, collection, user or credential in any label
    text = api.get("/metrics", headers=bearer(TOKEN)).text
    for leak in ("secret-looking-id-123", "for-anyone", "alice", '"kb"', "NWL-VPN", TOKEN,
                 alice["Authorization"].split()[1]):
        assert leak not in text


def test_jobs_are_reported_by_kind_and_state(api: TestClient, tmp_path: Path) -> None:
    services: Services = api.app.state.services  # type: ignore[attr-defined]
    admin = bearer(make_user(services, "root", ["admin"]))
    services.collections.upsert("fresh", write_kb(tmp_path / "fresh"), "en")  # all to embed
    job = api.post("/v1/admin/collections/fresh/reindex", headers=admin)
    assert job.status_code == 202, job.text
    deadline = time.monotonic() + 30
    while (samples := scrape(api)) and not value(
            samples, "vraagbaak_jobs", kind="reindex", state="succeeded"):
        assert time.monotonic() < deadline, "the re-index did not finish"
        time.sleep(0.05)
    assert value(samples, "vraagbaak_jobs", kind="reindex", state="succeeded") == 1
    chunks = services.jobs.get(job.json()["id"]).progress.chunks_embedded
    assert chunks > 0
    assert value(samples, "vraagbaak_ingest_chunks_embedded_total") == chunks
    assert value(samples, "vraagbaak_ingest_last_job_chunks_per_second") > 0


def test_the_review_queue_is_reported(api: TestClient) -> None:
    services: Services = api.app.state.services  # type: ignore[attr-defined]
    agent = bearer(make_user(services, "agent", ["agent"]))
    r = api.post("/v1/drafts", headers=agent, json={
        "question": "VPN error NWL-VPN-809", "customer": {"name": "Ann", "language": "en"}})
    assert r.status_code in (200, 201), r.text
    samples = scrape(api)
    assert value(samples, "vraagbaak_review_drafts", state="pending") == 1
    assert value(samples, "vraagbaak_review_oldest_pending_seconds") >= 0
    assert value(samples, "vraagbaak_answers_total", outcome="answered", channel="draft") == 1


def test_production_refuses_a_weak_metrics_token() -> None:
    with pytest.raises(ValueError, match="metrics_token"):
        Settings(environment="production", metrics_token=SecretStr("secret"))
    assert Settings(environment="production",
                    metrics_token=SecretStr(TOKEN)).metrics_token.get_secret_value() == TOKEN
