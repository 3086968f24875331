"""``GET /v1/knowledge/gaps``: an admin gets the three lists with the parameters they asked
for, an owner gets their collections', anyone else the one 403 error body; bad parameters
are a 422 that names them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.principal import Principal
from app.wiring import Services
from tests.access import bearer, make_user
from tests.app.knowledge_gaps.world import indexed_days_ago, stored


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def test_an_admin_gets_topics_uncited_and_old_documents(client: TestClient) -> None:
    services = _services(client)
    indexed_days_ago(services, 200)
    stored(services, "VPN certificate expired NWL-VPN-809", refused=True, days_ago=2)
    stored(services, "vpn?", cites=[("kb", "vpn.md")], days_ago=2)
    r = client.get("/v1/knowledge/gaps", params={"window_days": 30, "uncited_days": 60,
                                                 "max_age_days": 400})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["window_days"], body["uncited_days"], body["max_age_days"]) == (30, 60, 400)
    assert body["collections"] == ["kb"]
    assert [(t["label"], t["questions"], t["trend"]) for t in body["topics"]] == [
        ("VPN certificate expired NWL-VPN-809", 1, "new")]
    assert {d["path"] for d in body["uncited"]["documents"]} == {"mail.txt",
                                                                 "printing/printers.md"}
    assert body["uncited"]["total"] == 2
    assert body["old"] == {"total": 0, "documents": []} and body["undated"] == 0
    defaults = client.get("/v1/knowledge/gaps").json()
    assert (defaults["window_days"], defaults["uncited_days"], defaults["max_age_days"]) == (
        90, 90, 365)


def test_an_owner_gets_their_collections_and_anyone_else_a_403(client: TestClient) -> None:
    services = _services(client)
    services.access.set_grants("kb", everyone=True)
    olga = make_user(services, "olga", ["agent"])
    ann = make_user(services, "ann", ["agent"])
    refused = client.get("/v1/knowledge/gaps", headers=bearer(olga))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_an_owner"
    services.owners.add("kb", Principal.operator(), user="olga")
    mine = client.get("/v1/knowledge/gaps", headers=bearer(olga))
    assert mine.status_code == 200 and mine.json()["collections"] == ["kb"]
    assert client.get("/v1/knowledge/gaps", headers=bearer(ann)).status_code == 403


def test_parameters_out_of_range_are_a_422(client: TestClient) -> None:
    for params in ({"window_days": 0}, {"uncited_days": "soon"}, {"max_age_days": 36601}):
        r = client.get("/v1/knowledge/gaps", params=params)
        assert r.status_code == 422, params
        assert r.json()["error"]["code"] == "invalid_request"


def test_signed_out_is_a_401(client: TestClient) -> None:
    r = client.get("/v1/knowledge/gaps", headers={"Authorization": "Bearer vbk_nope"})
    assert r.status_code == 401
