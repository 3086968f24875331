"""``/v1/admin/collections/{name}/owners``, ``/v1/knowledge`` and ``/v1/notifications``: an
admin names the owners, a thumbs-down lands in the owning team's list, another team's owner
gets the 404 of an unknown id, the owner resolves and the giver reads the notification."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.wiring import Services
from tests.access import bearer, make_user

QUESTION = {"question": "What does VPN error NWL-VPN-809 mean?", "collections": ["kb"]}


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def _company(client: TestClient) -> dict[str, dict[str, str]]:
    s = _services(client)
    s.access.set_grants("kb", everyone=True)
    tokens = {"root": make_user(s, "root", ["admin"]),
              "ann": make_user(s, "ann", ["agent"]),
              "bob": make_user(s, "bob", ["agent"]),
              "olga": make_user(s, "olga", ["agent"], ["support"]),
              "oscar": make_user(s, "oscar", ["agent"], ["printing"])}
    return {name: bearer(token) for name, token in tokens.items()}


def test_owners_are_an_admins_to_name(client: TestClient) -> None:
    as_ = _company(client)
    url = "/v1/admin/collections/kb/owners"
    assert client.post(url, json={"team": "support"}, headers=as_["ann"]).status_code == 403
    assert client.get(url, headers=as_["ann"]).status_code == 403
    r = client.post(url, json={"team": "support"}, headers=as_["root"])
    assert r.status_code == 201, r.text
    owner = r.json()
    assert (owner["kind"], owner["name"], owner["folder"]) == ("team", "support", "")
    again = client.post(url, json={"team": "support"}, headers=as_["root"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "owner_exists"
    for body in ({"team": "support", "user": "olga"}, {}, {"user": ""}):
        assert client.post(url, json=body, headers=as_["root"]).status_code == 422, body
    missing = client.post(url, json={"user": "nobody"}, headers=as_["root"])
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    assert client.post("/v1/admin/collections/nope/owners", json={"user": "olga"},
                       headers=as_["root"]).status_code == 404
    assert [o["name"] for o in client.get(url, headers=as_["root"]).json()] == ["support"]
    gone = client.delete(f"{url}/{owner['owner_id']}", headers=as_["root"])
    assert gone.status_code == 204
    assert client.delete(f"{url}/{owner['owner_id']}", headers=as_["root"]).status_code == 404
    assert client.get(url, headers=as_["root"]).json() == []


def test_the_loop_over_the_api_with_another_teams_owner_kept_out(client: TestClient) -> None:
    as_ = _company(client)
    owners = "/v1/admin/collections/kb/owners"
    client.post(owners, json={"team": "support"}, headers=as_["root"])
    client.post(owners, json={"team": "printing", "folder": "printing"}, headers=as_["root"])
    r = client.post("/v1/chat", json=QUESTION, headers=as_["ann"])
    answer_id = r.json()["answer_id"]
    r = client.put(f"/v1/answers/{answer_id}/feedback", headers=as_["ann"], json={
        "vote": "down", "reasons": ["outdated_source"], "comment": "renamed last week"})
    assert r.status_code == 200, r.text
    listed = client.get("/v1/knowledge/issues", headers=as_["olga"])
    assert listed.status_code == 200, listed.text
    [issue] = listed.json()["issues"]
    assert (issue["question"], issue["reports"], issue["owners"], issue["document"]) == (
        QUESTION["question"], 1, ["team:support"], "vpn.md")
    assert issue["report_list"][0]["comment"] == "renamed last week"
    url = f"/v1/knowledge/issues/{issue['issue_id']}"
    assert client.get(url, headers=as_["olga"]).json()["issue_id"] == issue["issue_id"]
    # another team's owner, an agent who owns nothing and the giver: the 404 of no issue
    for intruder in ("oscar", "bob", "ann"):
        assert client.get("/v1/knowledge/issues", headers=as_[intruder]).json() == {
            "issues": []}
        hidden = client.get(url, headers=as_[intruder])
        assert hidden.status_code == 404, intruder
        assert hidden.json()["error"]["code"] == "issue_not_found"
        tried = client.post(f"{url}/resolve", headers=as_[intruder], json={
            "resolution": "works_as_intended", "reason": "mine"})
        assert tried.status_code == 404, intruder
    assert client.get("/v1/knowledge/issues/nope", headers=as_["olga"]).status_code == 404
    blank = client.post(f"{url}/resolve", headers=as_["olga"],
                        json={"resolution": "works_as_intended", "reason": " "})
    assert blank.status_code == 422
    assert client.post(f"{url}/resolve", headers=as_["olga"], json={
        "resolution": "shrug", "reason": "x"}).status_code == 422
    assert client.get("/v1/knowledge/issues?state=closed",
                      headers=as_["olga"]).status_code == 422
    done = client.post(f"{url}/resolve", headers=as_["olga"], json={
        "resolution": "document_changed", "reason": "Updated the error code table."})
    assert done.status_code == 200, done.text
    assert (done.json()["state"], done.json()["resolved_by"]) == ("resolved", "olga")
    again = client.post(f"{url}/resolve", headers=as_["olga"], json={
        "resolution": "document_changed", "reason": "again"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_resolved"
    assert client.get("/v1/knowledge/issues?state=resolved",
                      headers=as_["olga"]).json()["issues"][0]["issue_id"] == issue["issue_id"]
    # the giver is told, and reads it once
    inbox = client.get("/v1/notifications", headers=as_["ann"]).json()
    assert inbox["unread"] == 1
    [note] = inbox["notifications"]
    assert (note["resolution"], note["reason"], note["question"]) == (
        "document_changed", "Updated the error code table.", QUESTION["question"])
    assert note["reask_url"].startswith("/ask?q=What+does+VPN")
    assert client.get("/v1/notifications", headers=as_["bob"]).json() == {
        "unread": 0, "notifications": []}
    read = f"/v1/notifications/{note['notification_id']}/read"
    assert client.post(read, headers=as_["bob"]).status_code == 404
    assert client.post(read, headers=as_["ann"]).json()["read"] is True
    assert client.get("/v1/notifications", headers=as_["ann"]).json()["unread"] == 0
    [report] = client.get("/v1/knowledge/reports", headers=as_["ann"]).json()["reports"]
    assert (report["issue_id"], report["state"]) == (issue["issue_id"], "resolved")
    assert client.get("/v1/knowledge/reports", headers=as_["bob"]).json() == {"reports": []}
    del client.headers["Authorization"]  # the fixture's own caller
    assert client.get("/v1/notifications").status_code == 401
