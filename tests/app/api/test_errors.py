"""Every bad input gets a 4xx with {"error": {"code", "message"}} and nothing internal; a
server that can't serve a request now (a model gone) says 503, never 500."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.wiring import Services


def _error(r, status: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message", "request_id"}
    assert err["request_id"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text and "/tmp" not in r.text and "/work" not in r.text
    return err  # type: ignore[no-any-return]


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question(client: TestClient, question: str) -> None:
    assert _error(client.post("/v1/chat", json={"question": question}), 422)["code"] == \
        "empty_question"


def test_twenty_kb_question_is_refused_without_echo(client: TestClient) -> None:
    r = client.post("/v1/chat", json={"question": "x" * 20_000})
    assert _error(r, 422)["code"] == "question_too_long"
    assert len(r.text) < 300


def test_unknown_collection(client: TestClient) -> None:
    err = _error(client.post("/v1/chat", json={"question": "vpn", "collections": ["hr"]}), 404)
    assert err["code"] == "collection_not_found"
    assert _error(client.get("/v1/search", params={"q": "vpn", "collection": "hr"}), 404)


def test_malformed_json(client: TestClient) -> None:
    r = client.post("/v1/chat", content=b'{"question": ', headers={"content-type":
                                                                   "application/json"})
    assert _error(r, 400)["code"] == "malformed_json"


def test_wrong_types(client: TestClient) -> None:
    err = _error(client.post("/v1/chat", json={"question": 5, "collections": "kb"}), 422)
    assert err["code"] == "invalid_request" and "question" in err["message"]


@pytest.mark.parametrize("k", ["0", "51", "ten"])
def test_k_out_of_range(client: TestClient, k: str) -> None:
    assert _error(client.get("/v1/search", params={"q": "vpn", "k": k}), 422)["code"] == \
        "invalid_request"


def test_missing_query(client: TestClient) -> None:
    _error(client.get("/v1/search"), 422)


def test_openai_without_user_message(client: TestClient) -> None:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "system",
                                                                "content": "hi"}]})
    assert _error(r, 422)["code"] == "no_user_message"


def test_unknown_ids_and_routes(client: TestClient) -> None:
    assert _error(client.get("/v1/answers/nope"), 404)["code"] == "answer_not_found"
    assert _error(client.get("/v1/admin/jobs/nope"), 404)["code"] == "job_not_found"
    assert _error(client.post("/v1/admin/collections/nope/reindex"), 404)["code"] == \
        "collection_not_found"
    assert _error(client.get("/v1/nothing-here"), 404)["code"] == "not_found"


def test_a_collection_whose_embedding_model_is_gone_is_503_without_its_path(
        client: TestClient, kb: Path, tmp_path: Path) -> None:
    """The collection's own model folder was there when it was configured and is gone now
    (moved, unmounted): search can't embed the query, and says so without the path."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    model = tmp_path / "models" / "minilm-nl"
    model.mkdir(parents=True)
    services.collections.upsert("kb", kb, "en", str(model))
    model.rmdir()
    r = client.get("/v1/search", params={"q": "vpn", "collection": "kb"})
    err = _error(r, 503)
    assert err["code"] == "model_unavailable"
    assert "minilm-nl" not in r.text


# -- what the fuzzer found (tests/app/api/test_fuzz.py), each pinned here --------------------
def test_a_wrong_method_names_every_method_the_path_takes(client: TestClient) -> None:
    """FastAPI makes one route a method: Starlette's own 405 named only the first."""
    r = client.delete("/v1/admin/teams")
    assert _error(r, 405)["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("path", ["/v1/review/stats", "/v1/admin/audit"])
def test_a_time_is_iso_text_never_a_bare_number(client: TestClient, path: str) -> None:
    """pydantic reads 0.5 as a Unix timestamp; the schema says date-time."""
    for number in ("0.5", "99843"):
        assert _error(client.get(path, params={"since": number}), 422)["code"] == \
            "invalid_request"
    for iso in ("2026-05-01T09:00:00Z", "2026-05-01T09:00:00", "2026-05-01"):
        assert client.get(path, params={"since": iso}).status_code == 200, iso


def test_a_body_is_taken_as_its_schema_reads_it(client: TestClient) -> None:
    """0 is not false and "30" is not 30; but 30.0 is the JSON number 30."""
    for body in ({"everyone": 0}, {"everyone": "true"}, {"teams": "kb"}):
        assert _error(client.put("/v1/admin/collections/kb/grants", json=body), 422)["code"] \
            == "invalid_request", body
    assert _error(client.post("/v1/me/tokens", json={"expires_days": "30"}), 422)
    r = client.post("/v1/me/tokens", json={"expires_days": 30.0})
    assert r.status_code == 201, r.text


def test_an_age_filter_past_any_date_is_refused_not_a_crash(client: TestClient) -> None:
    r = client.get("/v1/review/drafts", params={"min_age_minutes": 1e12})
    assert _error(r, 422)["code"] == "invalid_request"


def test_an_over_long_id_is_refused(client: TestClient) -> None:
    assert _error(client.get("/v1/answers/" + "a" * 65), 422)["code"] == "invalid_request"
    assert _error(client.get("/v1/answers/" + "a" * 64), 404)["code"] == "answer_not_found"


def test_a_zone_change_names_a_version(client: TestClient) -> None:
    r = client.post("/v1/prompts/answer/zone", json={"zone": "pilot"})
    assert _error(r, 422)["code"] == "invalid_request" and "ref" in r.json()["error"]["message"]
