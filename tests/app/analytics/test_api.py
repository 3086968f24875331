"""``/v1/analytics``: who may read the figures (manager and admin, nobody else), who may choose
the baseline (admin), the JSON and the CSV under the k rule (default k = 5)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from app.analytics.figures import monday
from app.core.tables import utcnow
from app.wiring import Services
from tests.access import bearer, make_user
from tests.app.analytics.test_figures import answer, at


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def _askers(services: Services, names: list[str], team: str) -> None:
    """Each of ``names`` (agents of ``team``) asks one question in the last complete week."""
    last_week = monday(utcnow().date()) - timedelta(weeks=1)
    for name in names:
        make_user(services, name, ["agent"], [team])
    with services.sessions() as s:
        for name in names:
            answer(s, services.users.get(name).id, at(last_week + timedelta(days=1)))
        s.commit()


def test_managers_and_admins_read_the_figures_agents_do_not(client: TestClient) -> None:
    services = _services(client)
    manager = bearer(make_user(services, "meg", ["manager"]))
    agent = bearer(make_user(services, "andy", ["agent"]))
    for path in ("/v1/analytics/overview", "/v1/analytics/breakdown?by=role",
                 "/v1/analytics/weekly", "/v1/analytics/weekly.csv"):
        denied = client.get(path, headers=agent)
        assert denied.status_code == 403, path
        assert denied.json()["error"]["code"] == "missing_role"
        assert client.get(path, headers=manager).status_code == 200, path
        assert client.get(path).status_code == 200, path  # the client's own: an admin
    assert client.get("/v1/analytics/overview", headers={}).status_code == 200
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    assert anonymous.get("/v1/analytics/overview").status_code == 401


def test_k_rule_in_json_and_csv(client: TestClient) -> None:
    services = _services(client)
    _askers(services, ["p1", "p2", "p3", "p4", "p5"], "five")
    _askers(services, ["q1", "q2", "q3", "q4"], "four")
    teams = client.get("/v1/analytics/breakdown", params={"by": "team", "weeks": 1}).json()
    assert teams["k"] == 5 and teams["baseline"] is None
    by_team = {g["group"]: {f["name"]: f for f in g["figures"]} for g in teams["groups"]}
    assert by_team["five"]["questions"]["now"] == {"value": 5, "people": 5,
                                                   "suppressed": False}
    assert by_team["four"]["questions"]["now"] == {"value": None, "people": None,
                                                   "suppressed": True}
    assert by_team["five"]["questions"]["meaning"].startswith("Questions asked")
    assert by_team["five"]["questions"]["baseline"] is None
    company = client.get("/v1/analytics/overview", params={"weeks": 1}).json()
    questions = next(f for f in company["groups"][0]["figures"] if f["name"] == "questions")
    assert questions["now"] == {"value": 9, "people": 9, "suppressed": False}
    csv = client.get("/v1/analytics/weekly.csv", params={"by": "team", "weeks": 2})
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0] == "week,week_start,by,group,figure,value,people,suppressed"
    assert any(line.endswith(",team,five,questions,5,5,false") for line in lines)
    assert any(line.endswith(",team,four,questions,,,true") for line in lines)
    assert not any(",four,questions,4," in line for line in lines)


def test_only_an_admin_chooses_the_baseline(client: TestClient) -> None:
    services = _services(client)
    manager = bearer(make_user(services, "meg", ["manager"]))
    period = {"start": "2026-01-05", "end": "2026-01-11"}
    assert client.get("/v1/analytics/baseline").json()["error"]["code"] == "baseline_not_set"
    assert client.put("/v1/analytics/baseline", json=period,
                      headers=manager).status_code == 403
    chosen = client.put("/v1/analytics/baseline", json=period)
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["period"]["weeks"] == ["2026-W02"]
    assert client.get("/v1/analytics/baseline", headers=manager).json()["start"] == "2026-01-05"
    overview = client.get("/v1/analytics/overview", headers=manager).json()
    assert overview["baseline"]["weeks"] == ["2026-W02"]
    assert services.audit.latest("analytics_baseline_set") is not None
    swapped = client.put("/v1/analytics/baseline",
                         json={"start": "2026-01-11", "end": "2026-01-05"})
    assert swapped.status_code == 200 and swapped.json()["start"] == "2026-01-05"
    for bad in ({"start": 20260105, "end": "2026-01-11"}, {"start": "2026-01-05"},
                {"start": "2026-1-5", "end": "2026-01-11"},
                {"start": "2026-02-30", "end": "2026-03-01"}):
        assert client.put("/v1/analytics/baseline", json=bad).status_code == 422, bad
    assert client.get("/v1/analytics/overview", params={"weeks": 0}).status_code == 422
    assert client.get("/v1/analytics/breakdown", params={"by": "person"}).status_code == 422
