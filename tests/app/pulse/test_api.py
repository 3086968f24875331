"""``/v1/pulse`` over HTTP: due, answer 0-10 (422 outside, strictly a number), dismiss, and
409 once this period's pulse has its response."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.settings import PulseSettings, RetrievalSettings, Settings
from app.wiring import Services
from tests.access import bearer, make_user


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", pulse=PulseSettings(first_ask_after=0),
                    retrieval=RetrievalSettings(min_dense_score=0.2))


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def test_due_then_answered_then_not_due_until_the_next_period(client: TestClient) -> None:
    due = client.get("/v1/pulse")
    assert due.status_code == 200
    body = due.json()
    assert (body["due"], body["why_not"], body["score_min"], body["score_max"]) == (
        True, None, 0, 10)
    assert body["question"] == "How likely are you to recommend Vraagbaak to a colleague?"
    answered = client.post("/v1/pulse", json={"score": 9})
    assert answered.status_code == 200
    assert (answered.json()["due"], answered.json()["why_not"]) == (False,
                                                                    "asked_this_period")
    assert answered.json()["next_at"] is not None
    assert client.get("/v1/pulse").json()["due"] is False
    again = client.post("/v1/pulse", json={"score": 3})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "pulse_not_due")
    assert client.post("/v1/pulse/dismiss").status_code == 409


@pytest.mark.parametrize("body", [{"score": -1}, {"score": 11}, {"score": "7"},
                                  {"score": 7.5}, {"score": True}, {}, {"score": None}])
def test_a_score_outside_0_to_10_or_not_a_number_is_422(client: TestClient,
                                                        body: dict[str, object]) -> None:
    refused = client.post("/v1/pulse", json=body)
    assert refused.status_code == 422
    assert "error" in refused.json()
    assert client.get("/v1/pulse").json()["due"] is True  # nothing was stored


def test_both_ends_and_a_whole_float_are_scores(client: TestClient) -> None:
    services = services_of(client)
    for name, score in (("zero", 0), ("ten", 10.0)):
        token = make_user(services, name, ["agent"])
        assert client.post("/v1/pulse", json={"score": score},
                           headers=bearer(token)).status_code == 200


def test_a_dismissal_closes_the_period_for_that_person_only(client: TestClient) -> None:
    dismissed = client.post("/v1/pulse/dismiss")
    assert dismissed.status_code == 200 and dismissed.json()["due"] is False
    assert client.post("/v1/pulse", json={"score": 5}).status_code == 409
    other = bearer(make_user(services_of(client), "bob", ["agent"]))
    assert client.get("/v1/pulse", headers=other).json()["due"] is True


def test_the_pulse_needs_a_signed_in_caller(client: TestClient) -> None:
    client.headers.pop("Authorization")
    assert client.get("/v1/pulse").status_code == 401
    assert client.post("/v1/pulse", json={"score": 5}).status_code == 401
    assert client.post("/v1/pulse/dismiss").status_code == 401
