"""``/v1/answers/{answer_id}/feedback``: the owner votes, changes and withdraws; anyone who
may not see the answer gets the answer's 404; every refusal is the one error body."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.wiring import Services
from tests.access import bearer, make_user

QUESTION = {"question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"]}


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def _ask_as(client: TestClient, token: str) -> str:
    r = client.post("/v1/chat", json=QUESTION, headers=bearer(token))
    assert r.status_code == 200, r.text
    return str(r.json()["answer_id"])


def test_the_asker_votes_down_with_reasons_reads_it_back_and_changes_it(
        client: TestClient) -> None:
    services = _services(client)
    services.access.set_grants("kb", everyone=True)
    ann = make_user(services, "ann", ["agent"])
    answer_id = _ask_as(client, ann)
    url = f"/v1/answers/{answer_id}/feedback"
    missing = client.get(url, headers=bearer(ann))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "feedback_not_found"
    r = client.put(url, headers=bearer(ann), json={
        "vote": "down", "reasons": ["wrong_citation"], "comment": "cites the wrong page"})
    assert r.status_code == 200, r.text
    given = r.json()
    assert {k: given[k] for k in ("answer_id", "vote", "reasons", "comment", "outcome")} == {
        "answer_id": answer_id, "vote": "down", "reasons": ["wrong_citation"],
        "comment": "cites the wrong page", "outcome": None}
    assert client.get(url, headers=bearer(ann)).json() == given
    r = client.put(url, headers=bearer(ann), json={"vote": "up", "outcome": "solved"})
    assert (r.json()["vote"], r.json()["reasons"], r.json()["outcome"]) == ("up", [], "solved")
    assert client.get(url, headers=bearer(ann)).json()["vote"] == "up"
    assert client.delete(url, headers=bearer(ann)).status_code == 204
    assert client.get(url, headers=bearer(ann)).status_code == 404


def test_someone_elses_answer_is_a_404_and_the_owner_still_gets_200(client: TestClient) -> None:
    services = _services(client)
    services.access.set_grants("kb", everyone=True)
    ann, bob = make_user(services, "ann", ["agent"]), make_user(services, "bob", ["agent"])
    url = f"/v1/answers/{_ask_as(client, ann)}/feedback"
    for method in ("PUT", "GET", "DELETE"):
        r = client.request(method, url, headers=bearer(bob),
                           json={"vote": "down"} if method == "PUT" else None)
        assert r.status_code == 404, (method, r.text)
        error = r.json()["error"]
        assert error.pop("request_id") == r.headers["x-request-id"]
        assert error == {"code": "answer_not_found", "message": "answer not found"}
    assert client.put(url, headers=bearer(ann), json={"vote": "up"}).status_code == 200
    assert client.get(url, headers=bearer(ann)).json()["vote"] == "up"
    # the admin sees every answer, but ann's feedback is ann's: the admin has none of their own
    assert client.get(url).json()["error"]["code"] == "feedback_not_found"


def test_refusals_name_their_rule(client: TestClient) -> None:
    answer_id = client.post("/v1/chat", json=QUESTION).json()["answer_id"]
    url = f"/v1/answers/{answer_id}/feedback"
    for body, code in (({}, "empty_feedback"),
                       ({"vote": "up", "reasons": ["incomplete"]}, "reasons_need_down"),
                       ({"vote": "down", "reasons": ["boring"]}, "invalid_request"),
                       ({"vote": "down", "comment": "x" * 2001}, "invalid_request"),
                       ({"vote": 1}, "invalid_request")):
        r = client.put(url, json=body)
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == code, r.text
    assert client.put("/v1/answers/nope/feedback",
                      json={"vote": "up"}).json()["error"]["code"] == "answer_not_found"
    assert client.put(url, json={"outcome": "needs_person"}).json()["outcome"] == "needs_person"
